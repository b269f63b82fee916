/**
 * Retry and Catch matching (spec § "Error Handling"): error-name matching with the `States.ALL` and
 * `States.TaskFailed` wildcards, and the retry back-off (IntervalSeconds × BackoffRate^n, capped by MaxDelaySeconds,
 * optional FULL jitter).
 */

/** Errors no Retrier or Catcher may handle (AWS: terminal). */
const UNCATCHABLE = new Set(['States.Runtime', 'States.DataLimitExceeded']);
/** Timeouts that `States.TaskFailed` does not match. */
const TIMEOUTS = new Set(['States.Timeout', 'States.HeartbeatTimeout']);

/**
 * True for the timeout errors (`States.Timeout`, `States.HeartbeatTimeout`): a task ends TIMED_OUT with them.
 *
 * @example
 * isTimeout('States.HeartbeatTimeout'); // true
 */
export function isTimeout(error: string): boolean {
  return TIMEOUTS.has(error);
}

/**
 * True when `error` is matched by a Retrier/Catcher `ErrorEquals` list.
 * `States.Timeout` also matches `States.HeartbeatTimeout` (a heartbeat timeout is a kind of task timeout).
 *
 * @example
 * errorMatches(['States.TaskFailed'], 'MyError'); // true
 */
export function errorMatches(errorEquals: readonly string[], error: string): boolean {
  if (UNCATCHABLE.has(error)) return false;
  for (const name of errorEquals) {
    if (name === error) return true;
    if (name === 'States.ALL') return true;
    if (name === 'States.TaskFailed' && !TIMEOUTS.has(error)) return true;
    if (name === 'States.Timeout' && error === 'States.HeartbeatTimeout') return true;
  }
  return false;
}

/** A Retrier as written in the definition. */
export interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  MaxAttempts?: number;
  BackoffRate?: number;
  MaxDelaySeconds?: number;
  JitterStrategy?: 'FULL' | 'NONE';
}

/**
 * Decides whether to retry. `attempts` counts retries already made per Retrier index (mutated on retry).
 * Returns the delay in milliseconds, or `null` when the error must go to Catch / fail the state.
 *
 * @example
 * const attempts = new Map<number, number>();
 * nextRetryDelayMs([{ ErrorEquals: ['States.ALL'] }], 'Boom', attempts); // 1000
 */
export function nextRetryDelayMs(
  retriers: readonly Retrier[] | undefined,
  error: string,
  attempts: Map<number, number>,
  random: () => number = Math.random,
): number | null {
  if (!retriers) return null;
  for (let i = 0; i < retriers.length; i++) {
    const r = retriers[i] as Retrier;
    if (!errorMatches(r.ErrorEquals, error)) continue;
    const made = attempts.get(i) ?? 0;
    const max = r.MaxAttempts ?? 3;
    if (made >= max) return null;
    attempts.set(i, made + 1);
    let seconds = (r.IntervalSeconds ?? 1) * Math.pow(r.BackoffRate ?? 2, made);
    if (r.MaxDelaySeconds !== undefined) seconds = Math.min(seconds, r.MaxDelaySeconds);
    if (r.JitterStrategy === 'FULL') seconds = random() * seconds;
    return Math.round(seconds * 1000);
  }
  return null;
}

/**
 * Index of the first Catcher matching `error`, or -1.
 *
 * @example
 * findCatcher([{ ErrorEquals: ['States.ALL'], Next: 'X' }], 'Boom'); // 0
 */
export function findCatcher(catchers: ReadonlyArray<{ ErrorEquals: string[] }> | undefined, error: string): number {
  if (!catchers) return -1;
  return catchers.findIndex((c) => errorMatches(c.ErrorEquals, error));
}
