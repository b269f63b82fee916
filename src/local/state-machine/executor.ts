/**
 * A strict, durable local executor for the subset of the Amazon States Language that Tributary uses.
 * State transitions, task tokens and Distributed Map item results are written to SQLite before the executor moves
 * on, so a new executor on the same dbFile can `recover()` executions of a process that died.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { systemClock } from '../../ports/clock.js';
import type { Clock } from '../../ports/clock.js';
import { linkedController, newController, raceSignal, sleep } from './abortable.js';
import {
  S3_GET_OBJECT,
  S3_PUT_OBJECT,
  loadDefinition,
  splitResource,
  validateDefinition,
} from './definition-validator.js';
import { findCatcher, nextRetryDelayMs } from './error-handling.js';
import type { Retrier } from './error-handling.js';
import {
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  ExecutionInterrupted,
  ExecutorClosedError,
  InvalidToken,
  StateMachineApiError,
  StatesRuntimeError,
  TaskDoesNotExist,
  TaskTimedOut,
  UnsupportedDefinitionError,
} from './errors.js';
import { ExecutionStore } from './execution-store.js';
import { choiceNext, failStateError, filteredOutput, passOutput, waitDeadline } from './flow-states.js';
import type { ExecutionRecord } from './execution-store.js';
import { applyPayloadTemplate, applyResultPath, selectPath } from './input-output.js';
import { resolvePath } from './json-path.js';
import { assertPayloadSize, DEFAULT_MAX_PAYLOAD_BYTES } from './payload-limit.js';
import { writeMapRunResults } from './result-writer.js';
import type { MapRunChildResult } from './result-writer.js';
import { exceedsToleratedFailures } from './tolerated-failures.js';
import type {
  ErrorOutput,
  ExecutionDescription,
  ExecutionEvent,
  ExecutionEventListener,
  ExecutionListItem,
  ExecutorOptions,
  RecoveredExecution,
  RecoverOptions,
  ResourceHandler,
  StateDefinition,
  StateMachineDefinition,
  TaskContext,
} from './types.js';

/** Default state machine ARN. */
export const DEFAULT_STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:local';
/** Resource key whose results are wrapped like the AWS Lambda integration (`{Payload, StatusCode, …}`). */
export const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';
/** Error given to states interrupted by a process restart that cannot be resumed as they were (pending task tokens). */
export const PROCESS_RESTARTED = 'Tributary.ProcessRestarted';
/** Error of an execution that `recover({ orphans: 'fail' })` ended because the process running it died. */
export const OWNER_DIED = 'Tributary.OwnerDied';

/** Concurrency used for an inline Map whose MaxConcurrency is 0 (AWS: up to 40 concurrent iterations). */
export const MAX_INLINE_CONCURRENCY = 40;
/** Concurrency used for a Distributed Map whose MaxConcurrency is 0 (AWS allows 10,000; one process can't). */
export const MAX_DISTRIBUTED_CONCURRENCY = 1000;
/** Default size at which a ResultWriter file is closed (AWS: 5 GB; one file is built in memory here). */
export const DEFAULT_RESULT_FILE_BYTES = 64 * 1024 * 1024;

type Scope = { StartAt: string; States: Record<string, StateDefinition> };

/** An execution running in this process. */
interface LiveExecution {
  record: ExecutionRecord;
  controller: AbortController;
  done: Promise<void>;
  timeoutTimer?: NodeJS.Timeout;
}

/** Where a (possibly nested) scope runs: the execution, the cancellation signal, nesting and map-item context. */
interface RunContext {
  live: LiveExecution;
  signal: AbortSignal;
  /** 0 for the top-level states (persisted transitions), >0 inside Parallel branches / Map iterations. */
  depth: number;
  /** `$$.Execution` of this scope (a Distributed Map child has its own). */
  execution: { Id: string; Name: string; StartTime: string; Input: unknown };
  mapItem?: { Index: number; Value: unknown };
}

interface StateOutcome {
  output: unknown;
  next: string | undefined;
}

interface TokenWaiter {
  resolve(output: unknown): void;
  reject(error: StatesRuntimeError): void;
  heartbeat(): void;
}

/** Thrown into branches / items that are cancelled because a sibling failed; never reported. */
class BranchCancelled extends Error {
  public constructor() {
    super('Branch cancelled');
    this.name = 'BranchCancelled';
  }
}

function toStatesError(e: unknown): StatesRuntimeError {
  if (e instanceof StatesRuntimeError) return e;
  if (e instanceof Error) return new StatesRuntimeError(e.name || 'Error', e.message);
  return new StatesRuntimeError('States.TaskFailed', String(e));
}

function toJsonValue(value: unknown): unknown {
  return value === undefined ? null : value;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

function isPositiveInteger(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0;
}

/**
 * Executes an ASL state machine locally, durably (SQLite) and strictly (unsupported features are refused up front).
 *
 * @example
 * const executor = new StateMachineExecutor({ definition, resources: { 'arn:aws:states:::sqs:sendMessage': send }, dbFile });
 * await executor.recover();
 * const { executionArn } = await executor.startExecution({ name: 'run-1', input: {} });
 * const result = await executor.waitForExecution(executionArn);
 */
export class StateMachineExecutor {
  public readonly stateMachineArn: string;
  public readonly definition: StateMachineDefinition;
  private readonly definitionHash: string;
  private readonly resources: Record<string, ResourceHandler>;
  private readonly clock: Clock;
  private readonly store: ExecutionStore;
  private readonly live = new Map<string, LiveExecution>();
  private readonly tokenWaiters = new Map<string, TokenWaiter>();
  private readonly listeners = new Set<ExecutionEventListener>();
  private readonly completionWaiters = new Map<string, Set<() => void>>();
  private readonly owner: string | undefined;
  private readonly maxPayloadBytes: number;
  private readonly resultFileBytes: number;
  private closed = false;

  public constructor(options: ExecutorOptions) {
    this.definition = loadDefinition(options.definition);
    const problems = validateDefinition(this.definition, Object.keys(options.resources));
    if (problems.length > 0) throw new UnsupportedDefinitionError(problems);
    this.definitionHash = createHash('sha256').update(JSON.stringify(this.definition)).digest('hex');
    this.stateMachineArn = options.stateMachineArn ?? DEFAULT_STATE_MACHINE_ARN;
    this.resources = options.resources;
    this.clock = options.clock ?? systemClock;
    this.store = new ExecutionStore(options.dbFile);
    this.owner = options.owner;
    this.maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
    this.resultFileBytes = options.resultFileBytes ?? DEFAULT_RESULT_FILE_BYTES;
  }

  // ───────────────────────────── public API ─────────────────────────────

  /**
   * Starts an execution. Idempotent by name like AWS: the same name and input while RUNNING returns the existing
   * execution; a closed execution or different input throws {@link ExecutionAlreadyExists}.
   */
  public async startExecution(request: {
    name?: string;
    input?: unknown;
  }): Promise<{ executionArn: string; startDate: Date }> {
    this.assertOpen();
    const name = request.name ?? randomUUID();
    if (name.length === 0 || name.length > 80 || /[\s<>{}[\]?*"#%\\^|~`$&,;:/]/.test(name)) {
      throw new StateMachineApiError('InvalidName', `Invalid execution name '${name}'`);
    }
    const input = toJsonValue(request.input === undefined ? {} : request.input);
    const executionArn = this.executionArnFor(name);
    const existing = this.store.getExecution(executionArn);
    if (existing) {
      if (existing.status === 'RUNNING' && sameJson(existing.input, input))
        return { executionArn, startDate: existing.startDate };
      throw new ExecutionAlreadyExists(executionArn);
    }
    const startDate = this.clock.now();
    const timeoutAt =
      this.definition.TimeoutSeconds === undefined
        ? undefined
        : new Date(startDate.getTime() + this.definition.TimeoutSeconds * 1000);
    this.store.transaction(() => {
      this.store.insertExecution({
        executionArn,
        stateMachineArn: this.stateMachineArn,
        name,
        definitionHash: this.definitionHash,
        input,
        startDate,
        ...(timeoutAt ? { timeoutAt } : {}),
        ...(this.owner ? { owner: this.owner } : {}),
      });
      this.emit({ executionArn, timestamp: startDate, type: 'ExecutionStarted' }, true);
    });
    const record = this.store.getExecution(executionArn) as ExecutionRecord;
    this.launch(record, undefined);
    return { executionArn, startDate };
  }

  /** Completes a `.waitForTaskToken` task with `output` (a JSON value, not JSON text). */
  public async sendTaskSuccess(taskToken: string, output: unknown): Promise<void> {
    const waiter = this.claimToken(taskToken, 'SUCCEEDED');
    waiter.resolve(toJsonValue(output));
  }

  /** Fails a `.waitForTaskToken` task; `error` defaults to `States.TaskFailed`. */
  public async sendTaskFailure(taskToken: string, error?: string, cause?: string): Promise<void> {
    const waiter = this.claimToken(taskToken, 'FAILED');
    waiter.reject(new StatesRuntimeError(error ?? 'States.TaskFailed', cause));
  }

  /** Resets the heartbeat deadline of a `.waitForTaskToken` task. */
  public async sendTaskHeartbeat(taskToken: string): Promise<void> {
    this.assertOpen();
    const waiter = this.pendingWaiter(taskToken);
    waiter.heartbeat();
  }

  /** Current status, input and (when finished) output or error of an execution. */
  public async describeExecution(executionArn: string): Promise<ExecutionDescription> {
    this.assertOpen();
    const rec = this.store.getExecution(executionArn);
    if (!rec) throw new ExecutionDoesNotExist(executionArn);
    const d: ExecutionDescription = {
      executionArn,
      stateMachineArn: rec.stateMachineArn,
      name: rec.name,
      status: rec.status,
      input: rec.input,
      startDate: rec.startDate,
    };
    if (rec.output !== undefined) d.output = rec.output;
    if (rec.error !== undefined) d.error = rec.error;
    if (rec.cause !== undefined) d.cause = rec.cause;
    if (rec.stopDate) d.stopDate = rec.stopDate;
    if (rec.owner !== undefined) d.owner = rec.owner;
    return d;
  }

  /** Resolves with the description once the execution is no longer RUNNING (or rejects when `signal` aborts). */
  public async waitForExecution(
    executionArn: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<ExecutionDescription> {
    for (;;) {
      const d = await this.describeExecution(executionArn);
      if (d.status !== 'RUNNING') return d;
      await new Promise<void>((resolve, reject) => {
        const set = this.completionWaiters.get(executionArn) ?? new Set();
        this.completionWaiters.set(executionArn, set);
        const done = (): void => {
          set.delete(done);
          options.signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = (): void => {
          set.delete(done);
          reject(options.signal?.reason as Error);
        };
        if (options.signal?.aborted) return onAbort();
        options.signal?.addEventListener('abort', onAbort, { once: true });
        set.add(done);
        // The execution may have finished between the describe above and this registration.
        if (this.closed || this.store.getExecution(executionArn)?.status !== 'RUNNING') done();
      });
    }
  }

  /** Stops a RUNNING execution (status ABORTED); its handlers' signals abort and its task tokens close. */
  public async stopExecution(executionArn: string, error?: string, cause?: string): Promise<void> {
    this.assertOpen();
    const rec = this.store.getExecution(executionArn);
    if (!rec) throw new ExecutionDoesNotExist(executionArn);
    if (rec.status !== 'RUNNING') return;
    const result: { error?: string; cause?: string } = {};
    if (error !== undefined) result.error = error;
    if (cause !== undefined) result.cause = cause;
    this.finish(executionArn, 'ABORTED', result);
    this.live.get(executionArn)?.controller.abort(new ExecutionInterrupted('ABORTED'));
  }

  /** All executions of this state machine, newest first. */
  public async listExecutions(): Promise<ExecutionListItem[]> {
    this.assertOpen();
    return this.store.listExecutions(this.stateMachineArn).map((r) => {
      const item: ExecutionListItem = {
        executionArn: r.executionArn,
        stateMachineArn: r.stateMachineArn,
        name: r.name,
        status: r.status,
        startDate: r.startDate,
      };
      if (r.stopDate) item.stopDate = r.stopDate;
      return item;
    });
  }

  /** The persisted event history (top-level transitions, tasks, map runs) of an execution. */
  public async history(executionArn: string): Promise<ExecutionEvent[]> {
    this.assertOpen();
    if (!this.store.getExecution(executionArn)) throw new ExecutionDoesNotExist(executionArn);
    return this.store.history(executionArn);
  }

  /** Subscribes to progress events (including nested states, which are not persisted). Returns an unsubscribe function. */
  public onEvent(listener: ExecutionEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Resumes executions left RUNNING by a process that died or closed: each restarts at its last durably entered
   * top-level state (which re-runs: at-least-once). Pending task tokens are failed and the interrupted state gets the
   * error `Tributary.ProcessRestarted`, so its Retry/Catch run. Executions that cannot resume fail with `States.Runtime`.
   * With `orphans: 'fail'` each ends FAILED with `Tributary.OwnerDied` instead (a one-shot process does not inherit
   * a dead process's run). Returns what was done with each.
   */
  public async recover(options: RecoverOptions = {}): Promise<RecoveredExecution[]> {
    this.assertOpen();
    const recovered: RecoveredExecution[] = [];
    for (const rec of this.store.listExecutions(this.stateMachineArn)) {
      if (rec.status !== 'RUNNING' || this.live.has(rec.executionArn)) continue;
      if (rec.owner && rec.owner !== this.owner && options.isOwnerAlive?.(rec.owner)) continue;
      const arn = rec.executionArn;
      const was = { executionArn: arn, name: rec.name, ...(rec.owner ? { owner: rec.owner } : {}) };
      if (options.orphans === 'fail') {
        this.finish(arn, 'FAILED', {
          error: OWNER_DIED,
          cause: `the process running this execution (${rec.owner ?? 'unrecorded owner'}) died`,
        });
        recovered.push({ ...was, action: 'failed' });
        continue;
      }
      const pending = this.store.pendingTokens(arn);
      for (const token of pending) {
        if (this.store.closeToken(token.token, 'FAILED')) {
          this.emit(
            {
              executionArn: arn,
              timestamp: this.clock.now(),
              type: 'TaskFailed',
              stateName: token.stateName,
              detail: { error: PROCESS_RESTARTED },
            },
            true,
          );
        }
      }
      if (rec.definitionHash !== this.definitionHash) {
        this.finish(arn, 'FAILED', {
          error: 'States.Runtime',
          cause: 'The state machine definition changed while the execution was interrupted; it cannot be resumed',
        });
        continue;
      }
      if (rec.timeoutAt && rec.timeoutAt.getTime() <= this.clock.now().getTime()) {
        this.finish(arn, 'TIMED_OUT', {
          error: 'States.Timeout',
          cause: 'Execution timed out while the process was down',
        });
        continue;
      }
      const stateName = rec.currentState ?? this.definition.StartAt;
      if (!this.definition.States[stateName]) {
        this.finish(arn, 'FAILED', { error: 'States.Runtime', cause: `Cannot resume at unknown state '${stateName}'` });
        continue;
      }
      this.emit(
        {
          executionArn: arn,
          timestamp: this.clock.now(),
          type: 'ExecutionRecovered',
          stateName,
          detail: { failedTaskTokens: pending.length },
        },
        true,
      );
      if (this.owner) this.store.setOwner(arn, this.owner);
      recovered.push({ ...was, action: 'resumed' });
      this.launch(rec, {
        stateName,
        input: rec.currentState === undefined ? rec.input : rec.currentInput,
        ...(rec.enteredAt ? { enteredAt: rec.enteredAt } : {}),
        ...(pending.length > 0
          ? {
              injectedError: new StatesRuntimeError(
                PROCESS_RESTARTED,
                'The process running this task restarted; its task token was failed',
              ),
            }
          : {}),
      });
    }
    return recovered;
  }

  /** Stops timers and in-process work; RUNNING executions stay durable for `recover()` on a new executor. */
  public async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const running = [...this.live.values()];
    for (const live of running) {
      if (live.timeoutTimer) clearTimeout(live.timeoutTimer);
      live.controller.abort(new ExecutionInterrupted('CLOSED'));
    }
    await Promise.allSettled(running.map((l) => l.done));
    for (const waiters of this.completionWaiters.values()) for (const w of waiters) w();
    this.store.close();
  }

  // ───────────────────────────── execution driver ─────────────────────────────

  private executionArnFor(name: string): string {
    const [prefix, smName] = this.stateMachineArn.split(':stateMachine:') as [string, string | undefined];
    return `${prefix}:execution:${smName ?? 'local'}:${name}`;
  }

  private assertOpen(): void {
    if (this.closed) throw new ExecutorClosedError();
  }

  private emit(event: ExecutionEvent, persist: boolean): void {
    if (persist && !this.closed) this.store.appendEvent(event);
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A listener's failure must not break the execution.
      }
    }
  }

  /** Writes a final status (only if still RUNNING), emits the event, wakes waiters. */
  private finish(
    executionArn: string,
    status: 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED',
    result: { output?: unknown; error?: string; cause?: string },
  ): void {
    if (this.closed) return;
    const now = this.clock.now();
    const changed = this.store.transaction(() => {
      const ok = this.store.finishExecution(executionArn, status, now, result);
      if (ok) {
        const type = {
          SUCCEEDED: 'ExecutionSucceeded',
          FAILED: 'ExecutionFailed',
          TIMED_OUT: 'ExecutionTimedOut',
          ABORTED: 'ExecutionAborted',
        }[status];
        const detail: Record<string, unknown> = {};
        if (result.error !== undefined) detail.error = result.error;
        this.emit({ executionArn, timestamp: now, type, ...(result.error !== undefined ? { detail } : {}) }, true);
      }
      return ok;
    });
    if (changed) {
      const waiters = this.completionWaiters.get(executionArn);
      if (waiters) for (const w of [...waiters]) w();
    }
  }

  private launch(
    record: ExecutionRecord,
    resume: { stateName: string; input: unknown; enteredAt?: Date; injectedError?: StatesRuntimeError } | undefined,
  ): void {
    const controller = newController();
    const live: LiveExecution = { record, controller, done: Promise.resolve() };
    this.live.set(record.executionArn, live);
    if (record.timeoutAt) {
      const ms = record.timeoutAt.getTime() - this.clock.now().getTime();
      live.timeoutTimer = setTimeout(
        () => {
          this.finish(record.executionArn, 'TIMED_OUT', {
            error: 'States.Timeout',
            cause: `Execution exceeded TimeoutSeconds (${this.definition.TimeoutSeconds})`,
          });
          controller.abort(new ExecutionInterrupted('TIMED_OUT'));
        },
        Math.max(0, ms),
      );
    }
    const rc: RunContext = {
      live,
      signal: controller.signal,
      depth: 0,
      execution: {
        Id: record.executionArn,
        Name: record.name,
        StartTime: record.startDate.toISOString(),
        Input: record.input,
      },
    };
    live.done = (async () => {
      try {
        const output = await this.runScope(this.definition, resume ? resume.input : record.input, rc, resume);
        this.finish(record.executionArn, 'SUCCEEDED', { output });
      } catch (e) {
        if (e instanceof ExecutionInterrupted || controller.signal.aborted) return;
        const err = toStatesError(e);
        const result: { error: string; cause?: string } = { error: err.error };
        if (err.cause !== undefined) result.cause = err.cause;
        this.finish(record.executionArn, 'FAILED', result);
      } finally {
        if (live.timeoutTimer) clearTimeout(live.timeoutTimer);
        this.live.delete(record.executionArn);
      }
    })();
  }

  private checkSignal(rc: RunContext): void {
    if (rc.signal.aborted) throw rc.signal.reason as Error;
    if (this.closed) throw new ExecutionInterrupted('CLOSED');
  }

  private contextObject(
    rc: RunContext,
    stateName: string,
    enteredAt: Date,
    retryCount: number,
    token?: string,
  ): Record<string, unknown> {
    const smName = this.stateMachineArn.split(':stateMachine:')[1] ?? 'local';
    const ctx: Record<string, unknown> = {
      Execution: { ...rc.execution, RoleArn: 'arn:aws:iam::000000000000:role/local' },
      StateMachine: { Id: this.stateMachineArn, Name: smName },
      State: { Name: stateName, EnteredTime: enteredAt.toISOString(), RetryCount: retryCount },
    };
    if (token !== undefined) ctx.Task = { Token: token };
    if (rc.mapItem) ctx.Map = { Item: rc.mapItem };
    return ctx;
  }

  /** Runs states of one scope (the machine, a branch or an item processor) from StartAt (or a resume point) to its end. */
  private async runScope(
    scope: Scope,
    input: unknown,
    rc: RunContext,
    resume?: { stateName: string; enteredAt?: Date; injectedError?: StatesRuntimeError },
  ): Promise<unknown> {
    let stateName = resume?.stateName ?? scope.StartAt;
    let current = input;
    let enteredAt = resume?.enteredAt;
    let injected = resume?.injectedError;
    const persist = rc.depth === 0;
    const executionArn = rc.live.record.executionArn;
    for (;;) {
      this.checkSignal(rc);
      const state = scope.States[stateName] as StateDefinition;
      const at = enteredAt ?? this.clock.now();
      enteredAt = undefined;
      const entered: ExecutionEvent = {
        executionArn,
        timestamp: at,
        type: `${state.Type}StateEntered`,
        stateName,
        ...(rc.depth > 0 ? { detail: { depth: rc.depth } } : {}),
      };
      if (persist) {
        this.store.transaction(() => {
          this.store.setCurrentState(executionArn, stateName, current, at);
          this.emit(entered, true);
        });
      } else this.emit(entered, false);
      const outcome = await this.runState(stateName, state, current, rc, at, injected);
      injected = undefined;
      assertPayloadSize(outcome.output, this.maxPayloadBytes, `output of state '${stateName}'`);
      this.checkSignal(rc);
      this.emit(
        {
          executionArn,
          timestamp: this.clock.now(),
          type: `${state.Type}StateExited`,
          stateName,
          ...(rc.depth > 0 ? { detail: { depth: rc.depth } } : {}),
        },
        persist,
      );
      if (outcome.next === undefined) return outcome.output;
      stateName = outcome.next;
      current = outcome.output;
    }
  }

  private async runState(
    name: string,
    state: StateDefinition,
    rawInput: unknown,
    rc: RunContext,
    enteredAt: Date,
    injected: StatesRuntimeError | undefined,
  ): Promise<StateOutcome> {
    const next = state.End === true ? undefined : (state.Next as string | undefined);
    const ctx = (): Record<string, unknown> => this.contextObject(rc, name, enteredAt, 0);
    if (injected && !['Task', 'Parallel', 'Map'].includes(state.Type)) throw injected;
    switch (state.Type) {
      case 'Pass':
        return { output: passOutput(state, rawInput, ctx()), next };
      case 'Succeed':
        return { output: filteredOutput(state, rawInput, ctx()), next: undefined };
      case 'Fail':
        throw failStateError(name, state, rawInput, ctx());
      case 'Choice': {
        const target = choiceNext(name, state, rawInput, ctx());
        return { output: filteredOutput(state, rawInput, ctx()), next: target };
      }
      case 'Wait': {
        const until = waitDeadline(name, state, rawInput, enteredAt, ctx());
        await sleep(until - this.clock.now().getTime(), rc.signal);
        return { output: filteredOutput(state, rawInput, ctx()), next };
      }
      case 'Task':
      case 'Parallel':
      case 'Map':
        return this.runWithRetryCatch(name, state, rawInput, rc, enteredAt, injected, next);
      default:
        throw new StatesRuntimeError('States.Runtime', `Unsupported state type '${state.Type}'`);
    }
  }

  private async runWithRetryCatch(
    name: string,
    state: StateDefinition,
    rawInput: unknown,
    rc: RunContext,
    enteredAt: Date,
    injected: StatesRuntimeError | undefined,
    next: string | undefined,
  ): Promise<StateOutcome> {
    const attempts = new Map<number, number>();
    const executionArn = rc.live.record.executionArn;
    const persist = rc.depth === 0;
    let retryCount = 0;
    let pendingInjected = injected;
    for (;;) {
      try {
        if (pendingInjected) {
          const e = pendingInjected;
          pendingInjected = undefined;
          throw e;
        }
        const result = await this.attemptState(name, state, rawInput, rc, enteredAt, retryCount);
        // AWS fails here, before ResultSelector, when a task's or Map's result is over the quota (no Catch sees it).
        assertPayloadSize(result, this.maxPayloadBytes, `result of state '${name}'`);
        const ctx = this.contextObject(rc, name, enteredAt, retryCount);
        const selected =
          state.ResultSelector === undefined ? result : applyPayloadTemplate(state.ResultSelector, result, ctx);
        const output = applyResultPath(rawInput, selected, state.ResultPath as string | null | undefined);
        return { output: selectPath(output, state.OutputPath as string | null | undefined, 'OutputPath', ctx), next };
      } catch (e) {
        if (e instanceof ExecutionInterrupted || e instanceof BranchCancelled || rc.signal.aborted)
          throw rc.signal.aborted ? (rc.signal.reason as Error) : e;
        const err = toStatesError(e);
        const delay = nextRetryDelayMs(state.Retry as Retrier[] | undefined, err.error, attempts);
        if (delay !== null) {
          this.emit(
            {
              executionArn,
              timestamp: this.clock.now(),
              type: 'StateRetryScheduled',
              stateName: name,
              detail: { error: err.error, retryCount: retryCount + 1, delayMs: delay },
            },
            persist,
          );
          await sleep(delay, rc.signal);
          retryCount++;
          continue;
        }
        const catchers = state.Catch as
          Array<{ ErrorEquals: string[]; Next: string; ResultPath?: string | null }> | undefined;
        const index = findCatcher(catchers, err.error);
        if (index < 0) throw err;
        const catcher = (catchers as NonNullable<typeof catchers>)[index] as NonNullable<typeof catchers>[number];
        const errorOutput: ErrorOutput = { Error: err.error, ...(err.cause !== undefined ? { Cause: err.cause } : {}) };
        this.emit(
          {
            executionArn,
            timestamp: this.clock.now(),
            type: 'StateErrorCaught',
            stateName: name,
            detail: { error: err.error, next: catcher.Next },
          },
          persist,
        );
        return { output: applyResultPath(rawInput, errorOutput, catcher.ResultPath), next: catcher.Next };
      }
    }
  }

  private async attemptState(
    name: string,
    state: StateDefinition,
    rawInput: unknown,
    rc: RunContext,
    enteredAt: Date,
    retryCount: number,
  ): Promise<unknown> {
    const ctx = this.contextObject(rc, name, enteredAt, retryCount);
    const effective = selectPath(rawInput, state.InputPath as string | null | undefined, 'InputPath', ctx);
    if (state.Type === 'Task') return this.runTask(name, state, effective, rc, enteredAt, retryCount);
    if (state.Type === 'Parallel') {
      const parameters =
        state.Parameters === undefined ? effective : applyPayloadTemplate(state.Parameters, effective, ctx);
      const branches = state.Branches as Scope[];
      return this.runAll(branches.length, 0, rc, (i, child) => this.runScope(branches[i] as Scope, parameters, child));
    }
    return this.runMap(name, state, effective, rc, enteredAt, retryCount);
  }

  /**
   * Runs `count` jobs with at most `limit` at once (0 = unlimited), failing fast: the first failure cancels the rest.
   * Results are returned in index order.
   */
  private async runAll(
    count: number,
    limit: number,
    rc: RunContext,
    job: (index: number, child: RunContext) => Promise<unknown>,
  ): Promise<unknown[]> {
    const link = linkedController(rc.signal);
    const child: RunContext = { ...rc, signal: link.signal, depth: rc.depth + 1 };
    const results: unknown[] = new Array<unknown>(count);
    let nextIndex = 0;
    let firstError: unknown;
    const worker = async (): Promise<void> => {
      while (nextIndex < count && firstError === undefined && !link.signal.aborted) {
        const i = nextIndex++;
        try {
          results[i] = await job(i, child);
        } catch (e) {
          if (
            firstError === undefined &&
            !(e instanceof BranchCancelled && !rc.signal.aborted && link.signal.aborted)
          ) {
            firstError = e;
            if (!link.signal.aborted)
              link.controller.abort(rc.signal.aborted ? rc.signal.reason : new BranchCancelled());
          }
        }
      }
    };
    const workers = Math.max(1, limit > 0 ? Math.min(limit, count) : count);
    try {
      await Promise.all(Array.from({ length: workers }, worker));
    } finally {
      link.dispose();
    }
    if (rc.signal.aborted) throw rc.signal.reason as Error;
    if (firstError !== undefined) throw firstError;
    return results;
  }

  // ───────────────────────────── Task ─────────────────────────────

  private resolveSeconds(
    name: string,
    state: StateDefinition,
    field: 'TimeoutSeconds' | 'HeartbeatSeconds',
    input: unknown,
  ): number | undefined {
    const literal = state[field];
    if (literal !== undefined) return literal as number;
    const path = state[`${field}Path`];
    if (path === undefined) return undefined;
    const r = resolvePath(input, path as string, {});
    if (!r.found || !isPositiveInteger(r.value))
      throw new StatesRuntimeError(
        'States.Runtime',
        `Task '${name}': ${field}Path '${String(path)}' must resolve to a positive integer`,
      );
    return r.value;
  }

  private async runTask(
    name: string,
    state: StateDefinition,
    effective: unknown,
    rc: RunContext,
    enteredAt: Date,
    retryCount: number,
  ): Promise<unknown> {
    const { key, pattern } = splitResource(state.Resource as string);
    const handler = this.resources[key] as ResourceHandler;
    const executionArn = rc.live.record.executionArn;
    const persist = rc.depth === 0;
    const timeoutSeconds = this.resolveSeconds(name, state, 'TimeoutSeconds', effective);
    const heartbeatSeconds =
      pattern === 'waitForTaskToken' ? this.resolveSeconds(name, state, 'HeartbeatSeconds', effective) : undefined;
    const token = pattern === 'waitForTaskToken' ? randomBytes(32).toString('base64url') : undefined;
    const parameters =
      state.Parameters === undefined
        ? effective
        : applyPayloadTemplate(state.Parameters, effective, this.contextObject(rc, name, enteredAt, retryCount, token));
    assertPayloadSize(parameters, this.maxPayloadBytes, `input of task '${name}'`);
    const task = linkedController(rc.signal);
    const timers: NodeJS.Timeout[] = [];
    const fail = (error: string, cause: string): void => {
      if (!task.signal.aborted) task.controller.abort(new StatesRuntimeError(error, cause));
    };
    if (timeoutSeconds !== undefined) {
      timers.push(
        setTimeout(() => {
          if (token !== undefined && !this.closed) this.store.closeToken(token, 'TIMED_OUT');
          fail('States.Timeout', `Task '${name}' did not finish within ${timeoutSeconds} seconds`);
        }, timeoutSeconds * 1000),
      );
    }
    const taskContext: TaskContext = {
      executionArn,
      stateName: name,
      signal: task.signal,
      ...(token !== undefined ? { taskToken: token } : {}),
    };
    this.emit(
      {
        executionArn,
        timestamp: this.clock.now(),
        type: 'TaskScheduled',
        stateName: name,
        detail: { resource: key, pattern, retryCount },
      },
      persist,
    );
    try {
      let result: unknown;
      if (token === undefined) {
        result = await raceSignal(handler(parameters, taskContext), task.signal);
      } else {
        const outcome = this.awaitToken(
          token,
          name,
          rc,
          task.signal,
          heartbeatSeconds,
          timeoutSeconds,
          fail,
          timers,
          persist,
        );
        outcome.catch(() => undefined);
        await raceSignal(handler(parameters, taskContext), task.signal);
        this.emit({ executionArn, timestamp: this.clock.now(), type: 'TaskSubmitted', stateName: name }, persist);
        result = await outcome;
      }
      result = toJsonValue(result);
      if (key === LAMBDA_INVOKE) {
        // Like the AWS optimized Lambda integration: the function's response is the Payload of an invocation record.
        result = {
          ExecutedVersion: '$LATEST',
          Payload: result,
          SdkHttpMetadata: { HttpStatusCode: 200 },
          SdkResponseMetadata: { RequestId: randomUUID() },
          StatusCode: 200,
        };
      }
      this.emit({ executionArn, timestamp: this.clock.now(), type: 'TaskSucceeded', stateName: name }, persist);
      return result;
    } catch (e) {
      const reason = task.signal.aborted ? (task.signal.reason as unknown) : e;
      if (reason instanceof BranchCancelled && token !== undefined && !this.closed)
        this.store.closeToken(token, 'CLOSED');
      // An interrupted execution keeps its token PENDING only when the executor closed, so recover() can fail it.
      if (reason instanceof ExecutionInterrupted || reason instanceof BranchCancelled) throw reason;
      const err = toStatesError(reason);
      if (token !== undefined && !this.closed)
        this.store.closeToken(
          token,
          err.error === 'States.Timeout' || err.error === 'States.HeartbeatTimeout' ? 'TIMED_OUT' : 'FAILED',
        );
      this.emit(
        {
          executionArn,
          timestamp: this.clock.now(),
          type:
            err.error === 'States.Timeout' || err.error === 'States.HeartbeatTimeout' ? 'TaskTimedOut' : 'TaskFailed',
          stateName: name,
          detail: { error: err.error },
        },
        persist,
      );
      throw err;
    } finally {
      for (const t of timers) clearTimeout(t);
      if (token !== undefined) this.tokenWaiters.delete(token);
      task.dispose();
    }
  }

  /** Registers a token (durably, with its deadlines) and resolves with the output sent for it. */
  private awaitToken(
    token: string,
    stateName: string,
    rc: RunContext,
    signal: AbortSignal,
    heartbeatSeconds: number | undefined,
    timeoutSeconds: number | undefined,
    fail: (error: string, cause: string) => void,
    timers: NodeJS.Timeout[],
    persist: boolean,
  ): Promise<unknown> {
    const now = this.clock.now().getTime();
    const executionArn = rc.live.record.executionArn;
    this.store.insertToken({
      token,
      executionArn,
      stateName,
      ...(heartbeatSeconds !== undefined
        ? { heartbeatSeconds, heartbeatDeadline: new Date(now + heartbeatSeconds * 1000) }
        : {}),
      ...(timeoutSeconds !== undefined ? { timeoutDeadline: new Date(now + timeoutSeconds * 1000) } : {}),
    });
    let heartbeatTimer: NodeJS.Timeout | undefined;
    const armHeartbeat = (): void => {
      if (heartbeatSeconds === undefined) return;
      if (heartbeatTimer) clearTimeout(heartbeatTimer);
      heartbeatTimer = setTimeout(() => {
        if (!this.closed) this.store.closeToken(token, 'TIMED_OUT');
        fail('States.HeartbeatTimeout', `No heartbeat for task '${stateName}' within ${heartbeatSeconds} seconds`);
      }, heartbeatSeconds * 1000);
      timers.push(heartbeatTimer);
    };
    armHeartbeat();
    const outcome = new Promise<unknown>((resolve, reject) => {
      this.tokenWaiters.set(token, {
        resolve,
        reject,
        heartbeat: () => {
          if (heartbeatSeconds === undefined) return;
          this.store.setHeartbeatDeadline(token, new Date(this.clock.now().getTime() + heartbeatSeconds * 1000));
          this.emit({ executionArn, timestamp: this.clock.now(), type: 'TaskHeartbeat', stateName }, persist);
          armHeartbeat();
        },
      });
    });
    return raceSignal(outcome, signal);
  }

  private pendingWaiter(taskToken: string): TokenWaiter {
    if (typeof taskToken !== 'string' || taskToken.length === 0 || taskToken.length > 1024) throw new InvalidToken();
    const rec = this.store.getToken(taskToken);
    if (!rec) throw new TaskDoesNotExist();
    if (rec.status !== 'PENDING') throw new TaskTimedOut();
    const waiter = this.tokenWaiters.get(taskToken);
    // Pending in the database but awaited by no live execution: its process died and recover() has not run yet.
    if (!waiter) throw new TaskTimedOut('Task is not awaited by a running execution (call recover())');
    return waiter;
  }

  private claimToken(taskToken: string, status: 'SUCCEEDED' | 'FAILED'): TokenWaiter {
    this.assertOpen();
    const waiter = this.pendingWaiter(taskToken);
    if (!this.store.closeToken(taskToken, status)) throw new TaskTimedOut();
    this.tokenWaiters.delete(taskToken);
    return waiter;
  }

  // ───────────────────────────── Map ─────────────────────────────

  private resolveNumber(name: string, state: StateDefinition, field: string, input: unknown): number | undefined {
    if (state[field] !== undefined) return state[field] as number;
    const path = state[`${field}Path`];
    if (path === undefined) return undefined;
    const r = resolvePath(input, path as string, {});
    if (!r.found || typeof r.value !== 'number' || r.value < 0)
      throw new StatesRuntimeError(
        'States.Runtime',
        `Map '${name}': ${field}Path '${String(path)}' must resolve to a non-negative number`,
      );
    return r.value;
  }

  private async readItems(
    name: string,
    state: StateDefinition,
    effective: unknown,
    rc: RunContext,
    enteredAt: Date,
  ): Promise<unknown[]> {
    const reader = state.ItemReader as
      { Parameters: Record<string, unknown>; ReaderConfig: { MaxItems?: number } } | undefined;
    let items: unknown;
    if (reader) {
      const params = applyPayloadTemplate(reader.Parameters, effective, this.contextObject(rc, name, enteredAt, 0));
      const handler = this.resources[S3_GET_OBJECT] as ResourceHandler;
      const read = linkedController(rc.signal);
      try {
        items = await raceSignal(
          handler(params, { executionArn: rc.live.record.executionArn, stateName: name, signal: read.signal }),
          read.signal,
        );
      } catch (e) {
        if (rc.signal.aborted) throw rc.signal.reason as Error;
        const err = toStatesError(e);
        throw new StatesRuntimeError(
          'States.ItemReaderFailed',
          `ItemReader of '${name}' failed: ${err.error}${err.cause ? `: ${err.cause}` : ''}`,
        );
      } finally {
        read.dispose();
      }
      if (typeof items === 'string' || items instanceof Uint8Array) {
        try {
          items = JSON.parse(typeof items === 'string' ? items : Buffer.from(items).toString('utf8')) as unknown;
        } catch {
          throw new StatesRuntimeError(
            'States.ItemReaderFailed',
            `ItemReader of '${name}': the object is not valid JSON`,
          );
        }
      }
      if (!Array.isArray(items))
        throw new StatesRuntimeError(
          'States.ItemReaderFailed',
          `ItemReader of '${name}': the JSON object must be an array`,
        );
      if (reader.ReaderConfig.MaxItems !== undefined) items = items.slice(0, reader.ReaderConfig.MaxItems);
      return items as unknown[];
    }
    items =
      state.ItemsPath === undefined ? effective : selectPath(effective, state.ItemsPath as string, 'ItemsPath', {});
    if (!Array.isArray(items))
      throw new StatesRuntimeError('States.Runtime', `Map '${name}': ItemsPath must select an array`);
    return items;
  }

  private async runMap(
    name: string,
    state: StateDefinition,
    effective: unknown,
    rc: RunContext,
    enteredAt: Date,
    retryCount: number,
  ): Promise<unknown> {
    const processor = (state.ItemProcessor ?? state.Iterator) as Scope & {
      ProcessorConfig?: { Mode?: string; ExecutionType?: string };
    };
    const distributed = processor.ProcessorConfig?.Mode === 'DISTRIBUTED';
    const items = await this.readItems(name, state, effective, rc, enteredAt);
    // 0 means "as many as possible": AWS runs up to 40 inline iterations at once; we cap distributed runs at 1000.
    const requested = this.resolveNumber(name, state, 'MaxConcurrency', effective) ?? 0;
    const maxConcurrency =
      requested > 0 ? requested : distributed ? MAX_DISTRIBUTED_CONCURRENCY : MAX_INLINE_CONCURRENCY;
    const selector = (state.ItemSelector ?? state.Parameters) as unknown;
    const selectItem = (value: unknown, index: number): unknown =>
      selector === undefined
        ? value
        : applyPayloadTemplate(selector, effective, {
            ...this.contextObject(rc, name, enteredAt, retryCount),
            Map: { Item: { Index: index, Value: value } },
          });
    if (!distributed) {
      return this.runAll(items.length, maxConcurrency, rc, (i, child) => {
        const value = items[i];
        const itemRc: RunContext = { ...child, mapItem: { Index: i, Value: value } };
        return this.runScope(processor, selectItem(value, i), itemRc);
      });
    }
    return this.runDistributedMap(
      name,
      state,
      processor,
      items,
      selectItem,
      effective,
      maxConcurrency,
      rc,
      enteredAt,
      retryCount,
    );
  }

  private async runDistributedMap(
    name: string,
    state: StateDefinition,
    processor: Scope,
    items: unknown[],
    selectItem: (value: unknown, index: number) => unknown,
    effective: unknown,
    maxConcurrency: number,
    rc: RunContext,
    enteredAt: Date,
    retryCount: number,
  ): Promise<unknown> {
    const executionArn = rc.live.record.executionArn;
    const persist = rc.depth === 0;
    // The key is stable across a recovery of the same state entry, so finished items are not re-run.
    const mapKey = persist ? `${name}#${enteredAt.getTime()}#${retryCount}` : `${name}#${randomUUID()}`;
    const batcher = state.ItemBatcher as { MaxItemsPerBatch: number; BatchInput?: unknown } | undefined;
    const units: Array<() => unknown> = [];
    if (batcher) {
      const batchInput =
        batcher.BatchInput === undefined
          ? {}
          : (applyPayloadTemplate(
              batcher.BatchInput,
              effective,
              this.contextObject(rc, name, enteredAt, retryCount),
            ) as Record<string, unknown>);
      for (let start = 0; start < items.length; start += batcher.MaxItemsPerBatch) {
        const from = start;
        units.push(() => ({
          ...batchInput,
          Items: items.slice(from, from + batcher.MaxItemsPerBatch).map((v, j) => selectItem(v, from + j)),
        }));
      }
    } else items.forEach((v, i) => units.push(() => selectItem(v, i)));
    const total = units.length;
    const toleratedCount = this.resolveNumber(name, state, 'ToleratedFailureCount', effective);
    const toleratedPercentage = this.resolveNumber(name, state, 'ToleratedFailurePercentage', effective);
    const exceeded = (failures: number): boolean =>
      exceedsToleratedFailures({ failures, total, toleratedCount, toleratedPercentage });
    const finished = this.store.mapItems(executionArn, mapKey);
    const done = new Set(finished.map((r) => r.index));
    let failures = finished.filter((r) => !r.succeeded).length;
    finished.length = 0;
    const todo = Array.from({ length: total }, (_, i) => i).filter((i) => !done.has(i));
    this.emit(
      {
        executionArn,
        timestamp: this.clock.now(),
        type: 'MapRunStarted',
        stateName: name,
        detail: { items: total, resumed: done.size },
      },
      persist,
    );
    const smName = this.stateMachineArn.split(':stateMachine:')[1] ?? 'local';
    const label = typeof state.Label === 'string' ? state.Label : name;
    const childOf = (index: number): { Id: string; Name: string } => {
      const childName = `${rc.execution.Name}-${label}-${index}`.slice(0, 80);
      return {
        Id: `${executionArn.split(':execution:')[0]}:execution:${smName}/${label}:${childName}`,
        Name: childName,
      };
    };
    let succeeded = done.size - failures;
    try {
      if (exceeded(failures))
        throw new StatesRuntimeError(
          'States.ExceedToleratedFailureThreshold',
          `Map '${name}': ${failures} of ${total} items failed`,
        );
      await this.runAll(todo.length, maxConcurrency, rc, async (k, child) => {
        const index = todo[k] as number;
        const childRc: RunContext = {
          ...child,
          execution: {
            ...childOf(index),
            StartTime: this.clock.now().toISOString(),
            Input: null,
          },
        };
        const input = (units[index] as () => unknown)();
        childRc.execution.Input = input;
        try {
          const output = await this.runScope(processor, input, childRc);
          if (!this.closed) this.store.saveMapItem(executionArn, mapKey, { index, succeeded: true, output });
          succeeded++;
          this.emit(
            { executionArn, timestamp: this.clock.now(), type: 'MapItemSucceeded', stateName: name, detail: { index } },
            persist,
          );
        } catch (e) {
          if (e instanceof ExecutionInterrupted || e instanceof BranchCancelled || child.signal.aborted) throw e;
          const err = toStatesError(e);
          failures++;
          if (!this.closed)
            this.store.saveMapItem(executionArn, mapKey, {
              index,
              succeeded: false,
              output: { Error: err.error, ...(err.cause !== undefined ? { Cause: err.cause } : {}) },
            });
          this.emit(
            {
              executionArn,
              timestamp: this.clock.now(),
              type: 'MapItemFailed',
              stateName: name,
              detail: { index, error: err.error },
            },
            persist,
          );
          if (exceeded(failures))
            throw new StatesRuntimeError(
              'States.ExceedToleratedFailureThreshold',
              `Map '${name}': ${failures} of ${total} items failed (last: ${err.error})`,
            );
        }
      });
    } catch (e) {
      if (!(e instanceof ExecutionInterrupted) && !rc.signal.aborted) {
        // Only an interrupted run keeps its finished items (for recovery); a failed run starts afresh on retry.
        this.store.clearMapItems(executionArn, mapKey);
        this.emit(
          {
            executionArn,
            timestamp: this.clock.now(),
            type: 'MapRunFailed',
            stateName: name,
            detail: { succeeded, failed: failures },
          },
          persist,
        );
      }
      throw e;
    }
    this.emit(
      {
        executionArn,
        timestamp: this.clock.now(),
        type: 'MapRunSucceeded',
        stateName: name,
        detail: { succeeded, failed: failures },
      },
      persist,
    );
    const records = this.store.mapItems(executionArn, mapKey);
    if (state.ResultWriter === undefined) {
      this.store.clearMapItems(executionArn, mapKey);
      return records.map((r) => r.output);
    }
    try {
      const children = records.map((r): MapRunChildResult => ({
        name: childOf(r.index).Name,
        executionArn: childOf(r.index).Id,
        input: (units[r.index] as () => unknown)(),
        succeeded: r.succeeded,
        output: r.output,
      }));
      const result = await this.writeResults(name, state, effective, rc, enteredAt, retryCount, mapKey, children);
      this.store.clearMapItems(executionArn, mapKey);
      return result;
    } catch (e) {
      // Finished items stay for a recovery only when the process is going away.
      if (!(e instanceof ExecutionInterrupted) && !rc.signal.aborted) this.store.clearMapItems(executionArn, mapKey);
      throw e;
    }
  }

  /**
   * ResultWriter: writes the children's results through the bound s3:putObject handler (AWS layout) and returns
   * `{MapRunArn, ResultWriterDetails: {Bucket, Key}}`. The map run id is derived from the map key, so a resumed
   * state rewrites the same keys instead of leaving a second copy.
   */
  private async writeResults(
    name: string,
    state: StateDefinition,
    effective: unknown,
    rc: RunContext,
    enteredAt: Date,
    retryCount: number,
    mapKey: string,
    children: MapRunChildResult[],
  ): Promise<unknown> {
    const executionArn = rc.live.record.executionArn;
    const writer = state.ResultWriter as { Parameters: Record<string, unknown> };
    const params = applyPayloadTemplate(
      writer.Parameters,
      effective,
      this.contextObject(rc, name, enteredAt, retryCount),
    ) as { Bucket?: unknown; Prefix?: unknown };
    if (typeof params.Bucket !== 'string' || (params.Prefix !== undefined && typeof params.Prefix !== 'string'))
      throw new StatesRuntimeError(
        'States.ResultWriterFailed',
        `ResultWriter of '${name}': Bucket must be a string (and Prefix a string when given)`,
      );
    const hex = createHash('sha256').update(`${executionArn}#${mapKey}`).digest('hex');
    const mapRunId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
    const label = typeof state.Label === 'string' ? state.Label : name;
    const handler = this.resources[S3_PUT_OBJECT] as ResourceHandler;
    const write = linkedController(rc.signal);
    try {
      return await writeMapRunResults({
        bucket: params.Bucket,
        ...(params.Prefix !== undefined ? { prefix: params.Prefix } : {}),
        mapRunArn: `${this.stateMachineArn.replace(':stateMachine:', ':mapRun:')}/${label}:${mapRunId}`,
        mapRunId,
        stateMachineArn: this.stateMachineArn,
        children,
        maxFileBytes: this.resultFileBytes,
        put: async (key, body) => {
          await raceSignal(
            handler(
              { Bucket: params.Bucket, Key: key, Body: body },
              { executionArn, stateName: name, signal: write.signal },
            ),
            write.signal,
          );
        },
      });
    } catch (e) {
      if (rc.signal.aborted) throw rc.signal.reason as Error;
      const err = toStatesError(e);
      throw new StatesRuntimeError(
        'States.ResultWriterFailed',
        `ResultWriter of '${name}' failed: ${err.error}${err.cause ? `: ${err.cause}` : ''}`,
      );
    } finally {
      write.dispose();
    }
  }
}
