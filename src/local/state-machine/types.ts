import type { Clock } from '../../ports/clock.js';

/** What a resource handler is told about the task it runs. */
export interface TaskContext {
  /** Present only for `.waitForTaskToken` tasks: the token to hand to `sendTaskSuccess`/`sendTaskFailure`. */
  taskToken?: string;
  executionArn: string;
  stateName: string;
  /** Aborted when the task times out, the execution is stopped or times out, or the executor closes. */
  signal: AbortSignal;
}

/**
 * Runs one Task resource. Receives the effective parameters (after InputPath and Parameters) and returns the result.
 * Throw an `Error` whose `name` is the ASL error name (its `message` becomes the cause).
 */
export type ResourceHandler = (parameters: unknown, ctx: TaskContext) => Promise<unknown>;

/** Options of {@link StateMachineExecutor}. */
export interface ExecutorOptions {
  /** ASL JSON (JSONPath query language only), as text or parsed. */
  definition: string | object;
  /** Default `arn:aws:states:us-east-1:000000000000:stateMachine:local`. */
  stateMachineArn?: string;
  /** Keyed by Task Resource WITHOUT the integration-pattern suffix (`.waitForTaskToken`), or a Lambda function ARN. */
  resources: Record<string, ResourceHandler>;
  /** SQLite file holding durable execution state. */
  dbFile: string;
  clock?: Clock;
  /** The process running executions (`role:host:pid`), recorded on each so another process can tell a dead one. */
  owner?: string;
  /**
   * Payload quota: a state output, task input or task/Map result over this many bytes (UTF-8 JSON) fails the
   * execution with `States.DataLimitExceeded`, uncatchable, as in AWS. Default 262,144 (256 KiB, the AWS quota).
   */
  maxPayloadBytes?: number;
  /** A Distributed Map ResultWriter file is closed at this size and the next one started. Default 64 MiB. */
  resultFileBytes?: number;
}

/** How {@link StateMachineExecutor.recover} treats executions a dead process left RUNNING. */
export interface RecoverOptions {
  /**
   * `resume` (default): continue each in this process at its last entered state. `fail`: end each FAILED with
   * `Tributary.OwnerDied`, for one-shot processes that must not inherit a dead process's run.
   */
  orphans?: 'resume' | 'fail';
  /** True when an owner is still alive (another process runs it): its executions are left alone. Default: never. */
  isOwnerAlive?: (owner: string) => boolean;
}

/** What {@link StateMachineExecutor.recover} did with one execution. */
export interface RecoveredExecution {
  executionArn: string;
  name: string;
  /** Its previous owner, when recorded. */
  owner?: string;
  action: 'resumed' | 'failed';
}

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface ExecutionDescription {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  input: unknown;
  output?: unknown;
  error?: string;
  cause?: string;
  startDate: Date;
  stopDate?: Date;
  /** The process running it (`role:host:pid`), when recorded. */
  owner?: string;
}

export interface ExecutionListItem {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  startDate: Date;
  stopDate?: Date;
}

/** One history / progress event. `detail` holds ids, counts and error names, never payloads. */
export interface ExecutionEvent {
  executionArn: string;
  timestamp: Date;
  /** AWS-like event type, e.g. `ExecutionStarted`, `TaskStateEntered`, `TaskScheduled`, `MapItemSucceeded`. */
  type: string;
  stateName?: string;
  detail?: Record<string, unknown>;
}

export type ExecutionEventListener = (event: ExecutionEvent) => void;

/** Parsed ASL definition (loosely typed: validated by `validateDefinition`). */
export interface StateMachineDefinition {
  Comment?: string;
  StartAt: string;
  States: Record<string, StateDefinition>;
  TimeoutSeconds?: number;
  Version?: string;
  QueryLanguage?: string;
}

/** One ASL state; fields depend on `Type`. */
export type StateDefinition = { Type: string } & Record<string, unknown>;

/** The ASL error output `{Error, Cause}` that Catch hands to its Next state. */
export interface ErrorOutput {
  Error: string;
  Cause?: string;
}
