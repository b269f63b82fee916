/**
 * Errors raised by the local state-machine executor.
 *
 * Two families: API errors (thrown to the caller, named like the AWS Step Functions API errors so callers can map them)
 * and {@link StatesRuntimeError}, an error raised INSIDE an execution, carrying an ASL error name (`States.Timeout`,
 * a handler's `Error.name`, …) that Retry/Catch match on.
 */
import type { ErrorOutput } from './types.js';

/** One problem found while validating a definition, with the JSON path of the offending state or field. */
export interface DefinitionProblem {
  /** Where the problem is, e.g. `States.Send SQS.Resource` or `States.Map.ItemProcessor.States.Emit`. */
  path: string;
  /** What is wrong or unsupported. */
  message: string;
}

/**
 * The definition uses something this executor does not support (or is invalid ASL). Lists EVERY problem.
 *
 * @example
 * try { new StateMachineExecutor({ definition, resources, dbFile }); }
 * catch (e) { if (e instanceof UnsupportedDefinitionError) console.error(e.problems); }
 */
export class UnsupportedDefinitionError extends Error {
  public readonly problems: DefinitionProblem[];
  public constructor(problems: DefinitionProblem[]) {
    super(
      `State machine definition is not supported (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p.path}: ${p.message}`).join('\n'),
    );
    this.name = 'UnsupportedDefinitionError';
    this.problems = problems;
  }
}

/**
 * An error raised inside an execution, identified by an ASL error name. Retriers and Catchers match on `error`.
 *
 * @example
 * throw new StatesRuntimeError('States.Timeout', 'Task did not finish within 30 seconds');
 */
export class StatesRuntimeError extends Error {
  public readonly error: string;
  public override readonly cause: string | undefined;
  public constructor(error: string, cause?: string) {
    super(cause === undefined ? error : `${error}: ${cause}`);
    this.name = 'StatesRuntimeError';
    this.error = error;
    this.cause = cause;
  }
}

/** Base class for errors the executor API throws to its caller (mirrors the Step Functions API error names). */
export class StateMachineApiError extends Error {
  public constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/**
 * The task token is unknown to this executor.
 *
 * @example
 * await executor.sendTaskSuccess('nope', {}).catch((e) => e instanceof TaskDoesNotExist);
 */
export class TaskDoesNotExist extends StateMachineApiError {
  public constructor(message = 'Task does not exist') {
    super('TaskDoesNotExist', message);
  }
}

/**
 * The task token is known but its task is already closed (succeeded, failed, timed out, or its execution ended).
 *
 * @example
 * await executor.sendTaskSuccess(oldToken, {}).catch((e) => e instanceof TaskTimedOut);
 */
export class TaskTimedOut extends StateMachineApiError {
  public constructor(message = 'Task Timed Out') {
    super('TaskTimedOut', message);
  }
}

/**
 * The task token is malformed.
 *
 * @example
 * await executor.sendTaskHeartbeat('').catch((e) => e instanceof InvalidToken);
 */
export class InvalidToken extends StateMachineApiError {
  public constructor(message = 'Invalid Token') {
    super('InvalidToken', message);
  }
}

/**
 * No execution with this ARN.
 *
 * @example
 * await executor.describeExecution('arn:…:execution:local:missing').catch((e) => e instanceof ExecutionDoesNotExist);
 */
export class ExecutionDoesNotExist extends StateMachineApiError {
  public constructor(executionArn: string) {
    super('ExecutionDoesNotExist', `Execution does not exist: ${executionArn}`);
  }
}

/**
 * An execution with this name exists with a different input, or has already ended (AWS keeps names unique).
 *
 * @example
 * await executor.startExecution({ name: 'run-1', input: { other: true } }).catch((e) => e instanceof ExecutionAlreadyExists);
 */
export class ExecutionAlreadyExists extends StateMachineApiError {
  public constructor(executionArn: string) {
    super('ExecutionAlreadyExists', `Execution already exists: ${executionArn}`);
  }
}

/**
 * The executor was closed; create a new one on the same dbFile and call `recover()`.
 *
 * @example
 * await executor.close(); await executor.startExecution({}).catch((e) => e instanceof ExecutorClosedError);
 */
export class ExecutorClosedError extends StateMachineApiError {
  public constructor() {
    super('ExecutorClosed', 'The state machine executor is closed');
  }
}

/** Thrown (internally) to unwind an execution that was stopped, timed out or whose executor closed; never caught by Catch. */
export class ExecutionInterrupted extends Error {
  public readonly reason: 'ABORTED' | 'TIMED_OUT' | 'CLOSED';
  public constructor(reason: 'ABORTED' | 'TIMED_OUT' | 'CLOSED') {
    super(`Execution interrupted: ${reason}`);
    this.name = 'ExecutionInterrupted';
    this.reason = reason;
  }
}

/** Thrown (internally) into branches / items cancelled because a sibling failed; never reported. */
export class BranchCancelled extends Error {
  public constructor() {
    super('Branch cancelled');
    this.name = 'BranchCancelled';
  }
}

/**
 * Any thrown value as a {@link StatesRuntimeError}: an `Error`'s `name` is the ASL error, its `message` the cause.
 *
 * @example
 * toStatesError(Object.assign(new Error('gone'), { name: 'NotFound' })).error; // 'NotFound'
 */
export function toStatesError(e: unknown): StatesRuntimeError {
  if (e instanceof StatesRuntimeError) return e;
  if (e instanceof Error) return new StatesRuntimeError(e.name || 'Error', e.message);
  return new StatesRuntimeError('States.TaskFailed', String(e));
}

/**
 * The ASL error output `{Error, Cause?}` of an error (what a Catcher passes on, what a failed Map item records).
 *
 * @example
 * errorOutput(new StatesRuntimeError('Boom')); // { Error: 'Boom' }
 */
export function errorOutput(err: StatesRuntimeError): ErrorOutput {
  return { Error: err.error, ...(err.cause !== undefined ? { Cause: err.cause } : {}) };
}
