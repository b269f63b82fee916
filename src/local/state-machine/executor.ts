/**
 * A strict, durable local executor for the subset of the Amazon States Language that Tributary uses.
 * State transitions, task tokens and Distributed Map item results are written to SQLite before the executor moves
 * on, so a new executor on the same dbFile can `recover()` executions of a process that died.
 */
import { createHash, randomUUID } from 'node:crypto';
import { systemClock } from '../../ports/clock.js';
import type { Clock } from '../../ports/clock.js';
import { newController, sleep } from './abortable.js';
import { loadDefinition, validateDefinition } from './definition-validator.js';
import { runDistributedMapState } from './distributed-map-state.js';
import { findCatcher, nextRetryDelayMs } from './error-handling.js';
import type { Retrier } from './error-handling.js';
import {
  BranchCancelled,
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
  errorOutput,
  toStatesError,
} from './errors.js';
import { ExecutionStore } from './execution-store.js';
import { choiceNext, failStateError, filteredOutput, passOutput, waitDeadline } from './flow-states.js';
import type { ExecutionRecord } from './execution-store.js';
import { applyPayloadTemplate, applyResultPath, selectPath, toJsonValue } from './input-output.js';
import { isDistributedMap, runInlineMapState } from './map-state.js';
import { runParallelState } from './parallel-state.js';
import { assertPayloadSize, DEFAULT_MAX_PAYLOAD_BYTES } from './payload-limit.js';
import { DEFAULT_RESULT_FILE_BYTES } from './result-writer.js';
import { stateMachineName } from './state-context.js';
import type { RunContext, Scope, StateAttempt, StateContext, TokenWaiter } from './state-context.js';
import { runTaskState } from './task-state.js';
import type {
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
} from './types.js';

/** Default state machine ARN. */
export const DEFAULT_STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:local';
/** Error given to states interrupted by a process restart that cannot be resumed as they were (pending task tokens). */
export const PROCESS_RESTARTED = 'Tributary.ProcessRestarted';
/** Error of an execution that `recover({ orphans: 'fail' })` ended because the process running it died. */
export const OWNER_DIED = 'Tributary.OwnerDied';

/** An execution running in this process. */
interface LiveExecution {
  record: ExecutionRecord;
  controller: AbortController;
  done: Promise<void>;
  timeoutTimer?: NodeJS.Timeout;
}

/** One entry into a state: which state, of which scope run, on what raw input, since when. */
interface StateEntry {
  name: string;
  state: StateDefinition;
  rawInput: unknown;
  rc: RunContext;
  enteredAt: Date;
}

interface StateOutcome {
  output: unknown;
  next: string | undefined;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
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
  /** What the state implementations (task-state.ts, map-state.ts, …) call back into. */
  private readonly stateContext: StateContext;
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
    this.stateContext = {
      stateMachineArn: this.stateMachineArn,
      clock: this.clock,
      maxPayloadBytes: this.maxPayloadBytes,
      resultFileBytes: options.resultFileBytes ?? DEFAULT_RESULT_FILE_BYTES,
      store: this.store,
      isClosed: () => this.closed,
      handler: (key) => this.resources[key] as ResourceHandler,
      contextObject: (rc, stateName, enteredAt, retryCount, token) =>
        this.contextObject(rc, stateName, enteredAt, retryCount, token),
      emitStateEvent: (rc, stateName, type, detail) => this.emitStateEvent(rc, stateName, type, detail),
      runScope: (scope, input, rc) => this.runScope(scope, input, rc),
      registerTokenWaiter: (token, waiter) => this.tokenWaiters.set(token, waiter),
      releaseTokenWaiter: (token) => this.tokenWaiters.delete(token),
    };
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
    const prefix = this.stateMachineArn.split(':stateMachine:')[0] as string;
    return `${prefix}:execution:${stateMachineName(this.stateMachineArn)}:${name}`;
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

  /** Emits an event of state `stateName` of `rc`'s execution, now; persisted for top-level states only. */
  private emitStateEvent(rc: RunContext, stateName: string, type: string, detail?: Record<string, unknown>): void {
    this.emit(
      {
        executionArn: rc.executionArn,
        timestamp: this.clock.now(),
        type,
        stateName,
        ...(detail !== undefined ? { detail } : {}),
      },
      rc.depth === 0,
    );
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
      executionArn: record.executionArn,
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
    const ctx: Record<string, unknown> = {
      Execution: { ...rc.execution, RoleArn: 'arn:aws:iam::000000000000:role/local' },
      StateMachine: { Id: this.stateMachineArn, Name: stateMachineName(this.stateMachineArn) },
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
    const executionArn = rc.executionArn;
    for (;;) {
      this.checkSignal(rc);
      const state = scope.States[stateName] as StateDefinition;
      const at = enteredAt ?? this.clock.now();
      enteredAt = undefined;
      const transition = (type: 'StateEntered' | 'StateExited', timestamp: Date): ExecutionEvent => ({
        executionArn,
        timestamp,
        type: `${state.Type}${type}`,
        stateName,
        ...(rc.depth > 0 ? { detail: { depth: rc.depth } } : {}),
      });
      const entered = transition('StateEntered', at);
      if (persist) {
        this.store.transaction(() => {
          this.store.setCurrentState(executionArn, stateName, current, at);
          this.emit(entered, true);
        });
      } else this.emit(entered, false);
      const outcome = await this.runState({ name: stateName, state, rawInput: current, rc, enteredAt: at }, injected);
      injected = undefined;
      assertPayloadSize(outcome.output, this.maxPayloadBytes, `output of state '${stateName}'`);
      this.checkSignal(rc);
      this.emit(transition('StateExited', this.clock.now()), persist);
      if (outcome.next === undefined) return outcome.output;
      stateName = outcome.next;
      current = outcome.output;
    }
  }

  private async runState(entry: StateEntry, injected: StatesRuntimeError | undefined): Promise<StateOutcome> {
    const { name, state, rawInput, rc, enteredAt } = entry;
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
        return this.runWithRetryCatch(entry, injected, next);
      default:
        throw new StatesRuntimeError('States.Runtime', `Unsupported state type '${state.Type}'`);
    }
  }

  /** Runs a Task, Parallel or Map state with its Retriers and Catchers (an `injected` error fails the first attempt). */
  private async runWithRetryCatch(
    entry: StateEntry,
    injected: StatesRuntimeError | undefined,
    next: string | undefined,
  ): Promise<StateOutcome> {
    const { name, state, rawInput, rc, enteredAt } = entry;
    const attempts = new Map<number, number>();
    let retryCount = 0;
    let pendingInjected = injected;
    for (;;) {
      try {
        if (pendingInjected) {
          const e = pendingInjected;
          pendingInjected = undefined;
          throw e;
        }
        const result = await this.attemptState(entry, retryCount);
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
          this.emitStateEvent(rc, name, 'StateRetryScheduled', {
            error: err.error,
            retryCount: retryCount + 1,
            delayMs: delay,
          });
          await sleep(delay, rc.signal);
          retryCount++;
          continue;
        }
        const catchers = state.Catch as
          Array<{ ErrorEquals: string[]; Next: string; ResultPath?: string | null }> | undefined;
        const index = findCatcher(catchers, err.error);
        if (index < 0) throw err;
        const catcher = (catchers as NonNullable<typeof catchers>)[index] as NonNullable<typeof catchers>[number];
        this.emitStateEvent(rc, name, 'StateErrorCaught', { error: err.error, next: catcher.Next });
        return { output: applyResultPath(rawInput, errorOutput(err), catcher.ResultPath), next: catcher.Next };
      }
    }
  }

  /** One attempt of a Task, Parallel or Map state, dispatched to its kind's implementation; returns its result. */
  private async attemptState(entry: StateEntry, retryCount: number): Promise<unknown> {
    const { name, state, rawInput, rc, enteredAt } = entry;
    const ctx = this.contextObject(rc, name, enteredAt, retryCount);
    const effective = selectPath(rawInput, state.InputPath as string | null | undefined, 'InputPath', ctx);
    const attempt: StateAttempt = { name, state, input: effective, rc, enteredAt, retryCount };
    if (state.Type === 'Task') return runTaskState(this.stateContext, attempt);
    if (state.Type === 'Parallel') return runParallelState(this.stateContext, attempt);
    if (isDistributedMap(state)) return runDistributedMapState(this.stateContext, attempt);
    return runInlineMapState(this.stateContext, attempt);
  }

  // ───────────────────────────── task tokens ─────────────────────────────

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
}
