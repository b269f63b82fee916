import { describe, expect, it } from 'vitest';
import { backoffDelay, forEachBounded, resolveRetry } from '../../../src/synthetic/retry.js';

describe('forEachBounded', () => {
  it('never runs more than `concurrency` workers and pulls items lazily', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    let pulled = 0;
    function* items() {
      for (let i = 0; i < 50; i++) {
        pulled++;
        yield i;
      }
    }
    const seen: number[] = [];
    await forEachBounded(items(), 3, async (item) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      // Items are pulled only as slots free up.
      expect(pulled - seen.length).toBeLessThanOrEqual(3);
      await new Promise((resolve) => setImmediate(resolve));
      seen.push(item);
      inFlight--;
    });
    expect(maxInFlight).toBe(3);
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('stops pulling after a failure and rethrows it', async () => {
    let pulled = 0;
    function* items() {
      for (let i = 0; i < 1000; i++) {
        pulled++;
        yield i;
      }
    }
    await expect(
      forEachBounded(items(), 2, async (item) => {
        if (item === 5) throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(pulled).toBeLessThan(10);
  });
});

describe('backoffDelay', () => {
  it('doubles, caps and honours Retry-After', () => {
    const retry = resolveRetry({ baseDelayMs: 100, maxDelayMs: 1000 });
    expect([1, 2, 3, 4, 5].map((attempt) => backoffDelay(retry, attempt))).toEqual([100, 200, 400, 800, 1000]);
    expect(backoffDelay(retry, 1, 700)).toBe(700);
  });
});
