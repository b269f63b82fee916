import { describe, expect, it } from 'vitest';
import { createRandom, mixSeed } from '../../../src/synthetic/index.js';

describe('seeded PRNG', () => {
  it('repeats the same sequence for the same seed and differs for another', () => {
    const a = createRandom(mixSeed(42));
    const b = createRandom(mixSeed(42));
    const c = createRandom(mixSeed(43));
    const seqA = Array.from({ length: 50 }, () => a.next());
    const seqB = Array.from({ length: 50 }, () => b.next());
    const seqC = Array.from({ length: 50 }, () => c.next());
    expect(seqA).toEqual(seqB);
    expect(seqA).not.toEqual(seqC);
  });

  it('keeps draws in range and roughly uniform', () => {
    const random = createRandom(7);
    const buckets = [0, 0, 0, 0, 0, 0];
    let outOfRange = 0;
    for (let i = 0; i < 60_000; i++) {
      const value = random.int(1, 6);
      if (value < 1 || value > 6) outOfRange++;
      else buckets[value - 1]!++;
    }
    expect(outOfRange).toBe(0);
    for (const count of buckets) expect(count).toBeGreaterThan(9_000);
    const f = random.next();
    expect(f).toBeGreaterThanOrEqual(0);
    expect(f).toBeLessThan(1);
  });

  it('mixes string and number parts into distinct seeds', () => {
    expect(mixSeed('1')).not.toBe(mixSeed(1));
    expect(mixSeed(1, 2)).not.toBe(mixSeed(2, 1));
    expect(mixSeed('seed', 'patient', 5)).toBe(mixSeed('seed', 'patient', 5));
  });

  it('rejects pick() from an empty list', () => {
    expect(() => createRandom(1).pick([])).toThrow(RangeError);
  });
});
