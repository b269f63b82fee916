import { systemClock, type Clock } from '../ports/clock.js';
import { TransientExportError } from './errors.js';

/**
 * How a request that failed transiently (HTTP 408/429/5xx, a network error) is retried in-process: exponential backoff
 * with jitter, at least the server's `Retry-After`, capped, bounded in attempts and in total time.
 */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** Delay before the first retry; doubles per retry. */
  baseDelayMs: number;
  /** Longest single delay, a server's `Retry-After` included (a longer ask is cut down to this). */
  maxDelayMs: number;
  /** No retry starts once this much time has passed since the first attempt (or would pass while waiting). */
  maxElapsedMs: number;
}

/**
 * Default: 5 attempts, 1 s doubling, each delay at most 15 s, all within 45 s, so a kick-off and its retries fit
 * in the 60 s start-export Lambda.
 */
export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  maxAttempts: 5,
  baseDelayMs: 1_000,
  maxDelayMs: 15_000,
  maxElapsedMs: 45_000,
});

/** Injectable time, so tests run instantly: sleep, clock and the jitter's random source. */
export interface RetryRuntime {
  sleep?: (ms: number) => Promise<void>;
  clock?: Clock;
  /** In [0, 1); default `Math.random`. */
  random?: () => number;
}

/** Options of {@link withRetry}. */
export interface WithRetryOptions extends RetryRuntime {
  policy?: Partial<RetryPolicy>;
  /** Which errors are retried; default {@link TransientExportError}. */
  isRetryable?: (error: unknown) => boolean;
  /** Called before each wait (ids and reasons only: the message must hold no PHI). */
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
}

/**
 * {@link withRetry} options from a `retry` setting that holds policy fields and runtime hooks in one object.
 *
 * @example
 * await withRetry(attempt, retryOptionsOf({ maxAttempts: 2, sleep: async () => undefined }));
 */
export function retryOptionsOf(retry: Partial<RetryPolicy> & RetryRuntime = {}): WithRetryOptions {
  const { sleep, clock, random, ...policy } = retry;
  return { policy, ...(sleep ? { sleep } : {}), ...(clock ? { clock } : {}), ...(random ? { random } : {}) };
}

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `operation` until it succeeds, throws something not retryable, or the policy runs out; then the last error is
 * thrown with `(gave up after N attempts)` appended to its message.
 *
 * @example
 * const job = await withRetry(() => kickOffOnce(request), { policy: { maxAttempts: 3 } });
 */
export async function withRetry<T>(
  operation: (attempt: number) => Promise<T>,
  options: WithRetryOptions = {},
): Promise<T> {
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.policy };
  const sleep = options.sleep ?? realSleep;
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const isRetryable = options.isRetryable ?? ((error: unknown) => error instanceof TransientExportError);
  const startedAt = clock.now().getTime();
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      if (!isRetryable(error)) throw error;
      const delayMs = retryDelayMs(attempt, retryAfterSecondsOf(error), policy, random);
      const elapsedMs = clock.now().getTime() - startedAt;
      if (attempt >= policy.maxAttempts || elapsedMs + delayMs > policy.maxElapsedMs) {
        // Say how hard we tried: "503" alone reads as a single failure.
        if (error instanceof Error) error.message = `${error.message} (gave up after ${attempt} attempts)`;
        throw error;
      }
      options.onRetry?.({ attempt, delayMs, error });
      await sleep(delayMs);
    }
  }
}

/**
 * Delay before retry number `attempt` (1-based): `baseDelayMs × 2^(attempt-1)` with jitter in its upper half (so
 * clients that failed together do not retry together), at least `Retry-After`, at most `maxDelayMs`.
 *
 * @example
 * retryDelayMs(1, 120, DEFAULT_RETRY_POLICY) // 15000: Retry-After 120 s, cut to the 15 s cap
 */
export function retryDelayMs(
  attempt: number,
  retryAfterSeconds: number | undefined,
  policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>,
  random: () => number = Math.random,
): number {
  const exponential = policy.baseDelayMs * 2 ** Math.max(0, attempt - 1);
  const jittered = exponential / 2 + (exponential / 2) * random();
  const asked = retryAfterSeconds === undefined ? 0 : retryAfterSeconds * 1000;
  return Math.round(Math.min(policy.maxDelayMs, Math.max(jittered, asked)));
}

/** Below this a number is delta-seconds; from here on it can only be an absolute time (2001-09-09 in epoch seconds). */
const EPOCH_SECONDS_FROM = 1e9;
/** From here on an absolute time is in epoch milliseconds (1e12 ms is 2001 too; 1e12 s is year 33658). */
const EPOCH_MILLIS_FROM = 1e12;

/**
 * Seconds to wait from a `Retry-After` header: delta-seconds (RFC 9110), an HTTP-date, or, tolerated because one real
 * server sends it, an absolute Unix time in seconds or milliseconds. A time in the past means 0; anything else
 * unreadable, undefined.
 *
 * @example
 * parseRetryAfter('120') // 120
 * parseRetryAfter('Wed, 21 Oct 2015 07:28:30 GMT', new Date('2015-10-21T07:28:00Z')) // 30
 * parseRetryAfter('1445412510', new Date('2015-10-21T07:28:00Z')) // 30 (epoch seconds)
 */
export function parseRetryAfter(value: string | null | undefined, now: Date = new Date()): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) {
    const number = Number(text);
    if (number < EPOCH_SECONDS_FROM) return Math.ceil(number);
    const atMs = number >= EPOCH_MILLIS_FROM ? number : number * 1000;
    return secondsUntil(atMs, now);
  }
  const atMs = Date.parse(text);
  return Number.isNaN(atMs) ? undefined : secondsUntil(atMs, now);
}

function secondsUntil(atMs: number, now: Date): number {
  return Math.max(0, Math.ceil((atMs - now.getTime()) / 1000));
}

function retryAfterSecondsOf(error: unknown): number | undefined {
  return error instanceof TransientExportError ? error.retryAfterSeconds : undefined;
}
