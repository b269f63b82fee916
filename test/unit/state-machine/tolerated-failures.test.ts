import { describe, expect, it } from 'vitest';
import { exceedsToleratedFailures } from '../../../src/local/state-machine/tolerated-failures.js';

// AWS "Tolerated failure threshold for Distributed Map state".
const check = (failures: number, total: number, toleratedCount?: number, toleratedPercentage?: number): boolean =>
  exceedsToleratedFailures({ failures, total, toleratedCount, toleratedPercentage });

describe('tolerated failure threshold', () => {
  it('defaults to zero tolerance', () => {
    expect(check(0, 10)).toBe(false);
    expect(check(1, 10)).toBe(true);
  });
  it('count and percentage are exclusive upper bounds ("fails if exceeded")', () => {
    expect(check(2, 10, 2)).toBe(false);
    expect(check(3, 10, 2)).toBe(true);
    expect(check(2, 10, undefined, 20)).toBe(false);
    expect(check(3, 10, undefined, 20)).toBe(true);
    expect(check(10, 10, undefined, 100)).toBe(false);
  });
  it('with both, exceeding either fails', () => {
    expect(check(3, 100, 2, 50)).toBe(true);
    expect(check(2, 3, 5, 50)).toBe(true);
    expect(check(1, 3, 5, 50)).toBe(false);
  });
});
