/**
 * Task states (spec § "Task"): the bound resource handler runs with the effective parameters under TimeoutSeconds.
 * A `.waitForTaskToken` task gets a task token, committed before the handler is called, and waits for
 * `sendTask{Success,Failure}` (with HeartbeatSeconds). The Lambda integration's result is wrapped as AWS wraps it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { linkedController, raceSignal } from './abortable.js';
import { splitResource } from './definition-validator.js';
import { isTimeout } from './error-handling.js';
import { BranchCancelled, ExecutionInterrupted, StatesRuntimeError, toStatesError } from './errors.js';
import { applyPayloadTemplate, numberField, toJsonValue } from './input-output.js';
import { assertPayloadSize } from './payload-limit.js';
import type { RunContext, StateAttempt, StateContext } from './state-context.js';
import type { StateDefinition, TaskContext } from './types.js';

/** Resource key whose results are wrapped like the AWS Lambda integration (`{Payload, StatusCode, …}`). */
export const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';

function isPositiveInteger(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0;
}

/** TimeoutSeconds / HeartbeatSeconds, literal or through their `…Path`. */
function taskSeconds(
  name: string,
  state: StateDefinition,
  field: 'TimeoutSeconds' | 'HeartbeatSeconds',
  input: unknown,
): number | undefined {
  return numberField(state, field, input, {
    owner: `Task '${name}'`,
    expected: 'a positive integer',
    accepts: isPositiveInteger,
  });
}

/**
 * Runs one attempt of a Task state and returns its result (before ResultSelector), emitting TaskScheduled,
 * TaskSubmitted (callbacks), then TaskSucceeded, TaskFailed or TaskTimedOut.
 *
 * @example
 * const result = await runTaskState(context, { name: 'Send', state, input, rc, enteredAt, retryCount: 0 });
 */
export async function runTaskState(ctx: StateContext, attempt: StateAttempt): Promise<unknown> {
  const { name, state, input: effective, rc, enteredAt, retryCount } = attempt;
  const { key, pattern } = splitResource(state.Resource as string);
  const handler = ctx.handler(key);
  const callback = pattern === 'waitForTaskToken';
  const timeoutSeconds = taskSeconds(name, state, 'TimeoutSeconds', effective);
  const heartbeatSeconds = callback ? taskSeconds(name, state, 'HeartbeatSeconds', effective) : undefined;
  const token = callback ? randomBytes(32).toString('base64url') : undefined;
  const parameters =
    state.Parameters === undefined
      ? effective
      : applyPayloadTemplate(state.Parameters, effective, ctx.contextObject(rc, name, enteredAt, retryCount, token));
  assertPayloadSize(parameters, ctx.maxPayloadBytes, `input of task '${name}'`);
  const task = linkedController(rc.signal);
  const timers: NodeJS.Timeout[] = [];
  const fail = (error: string, cause: string): void => {
    if (!task.signal.aborted) task.controller.abort(new StatesRuntimeError(error, cause));
  };
  if (timeoutSeconds !== undefined) {
    timers.push(
      setTimeout(() => {
        if (token !== undefined && !ctx.isClosed()) ctx.store.closeToken(token, 'TIMED_OUT');
        fail('States.Timeout', `Task '${name}' did not finish within ${timeoutSeconds} seconds`);
      }, timeoutSeconds * 1000),
    );
  }
  const taskContext: TaskContext = {
    executionArn: rc.executionArn,
    stateName: name,
    signal: task.signal,
    ...(token !== undefined ? { taskToken: token } : {}),
  };
  ctx.emitStateEvent(rc, name, 'TaskScheduled', { resource: key, pattern, retryCount });
  try {
    let result: unknown;
    if (token === undefined) {
      result = await raceSignal(handler(parameters, taskContext), task.signal);
    } else {
      const outcome = awaitToken(ctx, {
        token,
        stateName: name,
        rc,
        signal: task.signal,
        heartbeatSeconds,
        timeoutSeconds,
        fail,
        timers,
      });
      outcome.catch(() => undefined);
      await raceSignal(handler(parameters, taskContext), task.signal);
      ctx.emitStateEvent(rc, name, 'TaskSubmitted');
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
    ctx.emitStateEvent(rc, name, 'TaskSucceeded');
    return result;
  } catch (e) {
    const reason = task.signal.aborted ? (task.signal.reason as unknown) : e;
    if (reason instanceof BranchCancelled && token !== undefined && !ctx.isClosed())
      ctx.store.closeToken(token, 'CLOSED');
    // An interrupted execution keeps its token PENDING only when the executor closed, so recover() can fail it.
    if (reason instanceof ExecutionInterrupted || reason instanceof BranchCancelled) throw reason;
    const err = toStatesError(reason);
    const timedOut = isTimeout(err.error);
    if (token !== undefined && !ctx.isClosed()) ctx.store.closeToken(token, timedOut ? 'TIMED_OUT' : 'FAILED');
    ctx.emitStateEvent(rc, name, timedOut ? 'TaskTimedOut' : 'TaskFailed', { error: err.error });
    throw err;
  } finally {
    for (const t of timers) clearTimeout(t);
    if (token !== undefined) ctx.releaseTokenWaiter(token);
    task.dispose();
  }
}

/** A `.waitForTaskToken` wait: the token, its deadlines and how the task fails. */
interface TokenWait {
  token: string;
  stateName: string;
  rc: RunContext;
  /** The task's signal (aborted by its timeout, a heartbeat timeout, or the execution). */
  signal: AbortSignal;
  heartbeatSeconds: number | undefined;
  timeoutSeconds: number | undefined;
  fail: (error: string, cause: string) => void;
  /** The task's timers, cleared when it ends (the heartbeat timer joins them). */
  timers: NodeJS.Timeout[];
}

/** Registers a token (durably, with its deadlines) and resolves with the output sent for it. */
function awaitToken(ctx: StateContext, wait: TokenWait): Promise<unknown> {
  const { token, stateName, rc, heartbeatSeconds, timeoutSeconds } = wait;
  const now = ctx.clock.now().getTime();
  ctx.store.insertToken({
    token,
    executionArn: rc.executionArn,
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
      if (!ctx.isClosed()) ctx.store.closeToken(token, 'TIMED_OUT');
      wait.fail('States.HeartbeatTimeout', `No heartbeat for task '${stateName}' within ${heartbeatSeconds} seconds`);
    }, heartbeatSeconds * 1000);
    wait.timers.push(heartbeatTimer);
  };
  armHeartbeat();
  const outcome = new Promise<unknown>((resolve, reject) => {
    ctx.registerTokenWaiter(token, {
      resolve,
      reject,
      heartbeat: () => {
        if (heartbeatSeconds === undefined) return;
        ctx.store.setHeartbeatDeadline(token, new Date(ctx.clock.now().getTime() + heartbeatSeconds * 1000));
        ctx.emitStateEvent(rc, stateName, 'TaskHeartbeat');
        armHeartbeat();
      },
    });
  });
  return raceSignal(outcome, wait.signal);
}
