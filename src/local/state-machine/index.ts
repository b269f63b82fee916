export { StateMachineExecutor, DEFAULT_STATE_MACHINE_ARN, OWNER_DIED, PROCESS_RESTARTED } from './executor.js';
export { LAMBDA_INVOKE } from './task-state.js';
export { putEventsEntries, putEventsResult, s3GetObjectTask, s3PutObjectTask } from './service-tasks.js';
export {
  loadDefinition,
  validateDefinition,
  splitResource,
  S3_GET_OBJECT,
  S3_PUT_OBJECT,
  WAIT_FOR_TASK_TOKEN,
} from './definition-validator.js';
export {
  UnsupportedDefinitionError,
  StatesRuntimeError,
  StateMachineApiError,
  TaskDoesNotExist,
  TaskTimedOut,
  InvalidToken,
  ExecutionDoesNotExist,
  ExecutionAlreadyExists,
  ExecutorClosedError,
} from './errors.js';
export type { DefinitionProblem } from './errors.js';
export { evaluateIntrinsic, parseIntrinsic, SUPPORTED_INTRINSICS } from './intrinsic-functions.js';
export { queryAll, resolvePath, parsePath } from './json-path.js';
export { evaluateChoiceRule } from './choice-rule.js';
export type {
  ExecutorOptions,
  RecoverOptions,
  RecoveredExecution,
  ResourceHandler,
  TaskContext,
  ExecutionDescription,
  ExecutionListItem,
  ExecutionEvent,
  ExecutionEventListener,
  ExecutionStatus,
  StateMachineDefinition,
  StateDefinition,
} from './types.js';
export { startStepFunctionsEndpoint } from './sfn-endpoint.js';
export { DEFAULT_MAX_PAYLOAD_BYTES, payloadBytes } from './payload-limit.js';
export { writeMapRunResults } from './result-writer.js';
export type { MapRunChildResult, ResultWriterOutput } from './result-writer.js';
export type { StepFunctionsEndpoint } from './sfn-endpoint.js';
