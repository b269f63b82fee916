import { describe, expect, it } from 'vitest';
import { errorMatches, findCatcher, nextRetryDelayMs } from '../../../src/local/state-machine/error-handling.js';

// Spec § "Error Handling" / "Retrying after error".
describe('error matching', () => {
  it('States.ALL matches everything except terminal runtime errors', () => {
    expect(errorMatches(['States.ALL'], 'Anything')).toBe(true);
    expect(errorMatches(['States.ALL'], 'States.Runtime')).toBe(false);
  });
  it('States.TaskFailed matches all but timeouts', () => {
    expect(errorMatches(['States.TaskFailed'], 'MyError')).toBe(true);
    expect(errorMatches(['States.TaskFailed'], 'States.Timeout')).toBe(false);
    expect(errorMatches(['States.TaskFailed'], 'States.HeartbeatTimeout')).toBe(false);
    expect(errorMatches(['States.Timeout'], 'States.HeartbeatTimeout')).toBe(true);
  });
  it('finds the first matching catcher', () => {
    expect(findCatcher([{ ErrorEquals: ['A'] }, { ErrorEquals: ['States.ALL'] }], 'B')).toBe(1);
    expect(findCatcher([{ ErrorEquals: ['A'] }], 'B')).toBe(-1);
  });
});

describe('retry back-off', () => {
  it('follows the spec example: ErrorA, ErrorB, ErrorC, ErrorB with MaxAttempts 2', () => {
    const retriers = [
      { ErrorEquals: ['ErrorA', 'ErrorB'], IntervalSeconds: 1, BackoffRate: 2.0, MaxAttempts: 2 },
      { ErrorEquals: ['ErrorC'], IntervalSeconds: 5 },
    ];
    const attempts = new Map<number, number>();
    expect(nextRetryDelayMs(retriers, 'ErrorA', attempts)).toBe(1000);
    expect(nextRetryDelayMs(retriers, 'ErrorB', attempts)).toBe(2000);
    expect(nextRetryDelayMs(retriers, 'ErrorC', attempts)).toBe(5000);
    expect(nextRetryDelayMs(retriers, 'ErrorB', attempts)).toBeNull();
  });
  it('caps with MaxDelaySeconds, applies FULL jitter, and MaxAttempts 0 never retries', () => {
    const attempts = new Map<number, number>();
    const r = [{ ErrorEquals: ['E'], IntervalSeconds: 10, BackoffRate: 10, MaxAttempts: 5, MaxDelaySeconds: 30 }];
    expect(nextRetryDelayMs(r, 'E', attempts)).toBe(10_000);
    expect(nextRetryDelayMs(r, 'E', attempts)).toBe(30_000);
    expect(
      nextRetryDelayMs(
        [{ ErrorEquals: ['E'], IntervalSeconds: 10, JitterStrategy: 'FULL' as const }],
        'E',
        new Map(),
        () => 0.5,
      ),
    ).toBe(5000);
    expect(nextRetryDelayMs([{ ErrorEquals: ['E'], MaxAttempts: 0 }], 'E', new Map())).toBeNull();
  });
});
