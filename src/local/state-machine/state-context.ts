/**
 * The seam between the executor and the states that do work (task-state.ts, parallel-state.ts, map-state.ts,
 * distributed-map-state.ts): where a state runs ({@link RunContext}, {@link StateAttempt}) and the few things it calls
 * back into the executor for ({@link StateContext}). The executor owns executions, persistence, recovery, events and
 * dispatch (including Retry/Catch); a state implementation owns the work of its kind.
 */
import type { Clock } from '../../ports/clock.js';
import type { StatesRuntimeError } from './errors.js';
import type { ExecutionStore } from './execution-store.js';
import type { ResourceHandler, StateDefinition } from './types.js';

/** The states of one scope: the machine, a Parallel branch or a Map item processor. */
export type Scope = { StartAt: string; States: Record<string, StateDefinition> };

/** Where a (possibly nested) scope runs: the execution, the cancellation signal, nesting and map-item context. */
export interface RunContext {
  executionArn: string;
  signal: AbortSignal;
  /** 0 for the top-level states (persisted transitions), >0 inside Parallel branches / Map iterations. */
  depth: number;
  /** `$$.Execution` of this scope (a Distributed Map child has its own). */
  execution: { Id: string; Name: string; StartTime: string; Input: unknown };
  mapItem?: { Index: number; Value: unknown };
}

/** One attempt (first run or retry) of a Task, Parallel or Map state. */
export interface StateAttempt {
  name: string;
  state: StateDefinition;
  /** The effective input: the raw input after InputPath. */
  input: unknown;
  rc: RunContext;
  enteredAt: Date;
  retryCount: number;
}

/** Receives what `sendTask{Success,Failure,Heartbeat}` sends for one pending `.waitForTaskToken` task. */
export interface TokenWaiter {
  resolve(output: unknown): void;
  reject(error: StatesRuntimeError): void;
  heartbeat(): void;
}

/** What a state implementation calls back into the executor for. */
export interface StateContext {
  readonly stateMachineArn: string;
  readonly clock: Clock;
  /** The payload quota (`States.DataLimitExceeded`). */
  readonly maxPayloadBytes: number;
  /** Size at which a ResultWriter file is closed. */
  readonly resultFileBytes: number;
  /** Durable task tokens and finished Distributed Map items. */
  readonly store: Pick<
    ExecutionStore,
    'insertToken' | 'closeToken' | 'setHeartbeatDeadline' | 'mapItems' | 'saveMapItem' | 'clearMapItems'
  >;
  /** True once the executor is closing: optional durable writes stop, so RUNNING executions stay recoverable. */
  isClosed(): boolean;
  /** The handler bound to a resource key (the validator made sure there is one). */
  handler(resourceKey: string): ResourceHandler;
  /** The context object (`$$`) of a state; `token` sets `$$.Task.Token`. */
  contextObject(
    rc: RunContext,
    stateName: string,
    enteredAt: Date,
    retryCount: number,
    token?: string,
  ): Record<string, unknown>;
  /** Emits an event of a state of `rc`'s execution, now; persisted for top-level states only. */
  emitStateEvent(rc: RunContext, stateName: string, type: string, detail?: Record<string, unknown>): void;
  /** Runs a nested scope (a branch, an iteration, a child execution) to its end and returns its output. */
  runScope(scope: Scope, input: unknown, rc: RunContext): Promise<unknown>;
  /** Routes `sendTask*` calls for `token` to `waiter` (until {@link releaseTokenWaiter}). */
  registerTokenWaiter(token: string, waiter: TokenWaiter): void;
  releaseTokenWaiter(token: string): void;
}

/** A state machine's name: what follows `:stateMachine:` in its ARN (`local` when there is none). */
export function stateMachineName(stateMachineArn: string): string {
  return stateMachineArn.split(':stateMachine:')[1] ?? 'local';
}
