import type { RetryOptions } from './types.js';

export interface ResolvedRetry {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/**
 * Fills in retry defaults (6 attempts, 250 ms doubling, 10 s cap).
 *
 * @example
 * const retry = resolveRetry({ attempts: 3 });
 */
export function resolveRetry(options: RetryOptions = {}): ResolvedRetry {
  return {
    attempts: Math.max(1, options.attempts ?? 6),
    baseDelayMs: Math.max(0, options.baseDelayMs ?? 250),
    maxDelayMs: Math.max(0, options.maxDelayMs ?? 10_000),
  };
}

/**
 * Delay before retry number `attempt` (1-based): exponential, capped, honouring a server hint.
 * No jitter: seeding is a single client, so synchronised retries are not a concern.
 *
 * @example
 * backoffDelay(resolveRetry(), 2); // 500
 */
export function backoffDelay(retry: ResolvedRetry, attempt: number, retryAfterMs?: number): number {
  const exponential = retry.baseDelayMs * 2 ** (attempt - 1);
  return Math.min(retry.maxDelayMs, Math.max(exponential, retryAfterMs ?? 0));
}

/**
 * @example
 * await sleep(100);
 */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `worker` over every item of a (possibly huge, lazy) iterable with at most `concurrency`
 * in flight; items are pulled only when a slot frees, so memory stays bounded. Stops pulling
 * after the first failure and rethrows it once in-flight work settles.
 *
 * @example
 * await forEachBounded(generatePopulation(opts), 4, async (bundle) => post(bundle));
 */
export async function forEachBounded<T>(
  items: Iterable<T> | AsyncIterable<T>,
  concurrency: number,
  worker: (item: T, index: number) => Promise<void>,
): Promise<void> {
  const iterator =
    Symbol.asyncIterator in items ? items[Symbol.asyncIterator]() : (items as Iterable<T>)[Symbol.iterator]();
  let index = 0;
  let failed = false;
  let failure: unknown;
  const lane = async (): Promise<void> => {
    while (!failed) {
      const next = await iterator.next();
      if (next.done) return;
      try {
        await worker(next.value, index++);
      } catch (error) {
        if (!failed) failure = error;
        failed = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, lane));
  if (failed) throw failure;
}
