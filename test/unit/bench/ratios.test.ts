import { describe, expect, it } from 'vitest';
import type { CaseResult } from '../../../bench/measure.js';
import { summarise } from '../../../bench/measure.js';
import { withRatios, type PlanRow, type RowResult } from '../../../bench/run.js';

const result = (
  file: string,
  planVariant: string,
  n: number,
  items: number,
  seconds: number,
  extra: Partial<RowResult> = {},
): RowResult => ({
  ...({ name: file, variant: planVariant, items, unit: 'records', seconds, peakRssMiB: 1 } satisfies CaseResult),
  file,
  planVariant,
  n,
  ...extra,
});

describe('bench runner ratios', () => {
  const plan: PlanRow[] = [
    { file: 'a.ts', variant: 'baseline', n: 100 },
    { file: 'a.ts', variant: 'fast', n: 10, anchorOf: 'baseline' },
    { file: 'a.ts', variant: 'fast', n: 100, anchorOf: 'baseline' },
    { file: 'b.ts', variant: 'slow', n: 1, anchorOf: 'missing' },
    { file: 'c.ts', variant: 'floor', n: 5, compare: 'latency' },
    { file: 'c.ts', variant: 'cli', n: 5, anchorOf: 'floor', compare: 'latency' },
  ];

  it('divides items/s by the anchor of the same file, preferring the same n', () => {
    const rated = withRatios(
      [
        result('a.ts', 'baseline', 100, 100, 1, {}),
        result('a.ts', 'baseline', 10, 10, 1, {}),
        result('a.ts', 'fast', 10, 10, 0.5, { anchorOf: 'baseline' }),
        result('a.ts', 'fast', 100, 100, 0.25, { anchorOf: 'baseline' }),
      ],
      plan,
    );
    expect(rated.map((r) => r.ratio)).toEqual([undefined, undefined, 2, 4]);
    expect(rated[2]!.ratioOf).toBe('items/s ÷ baseline items/s');
  });

  it('leaves the ratio out when the anchor is missing or failed, and compares latency rows by p50', () => {
    const rated = withRatios(
      [
        result('b.ts', 'slow', 1, 1, 1, { anchorOf: 'missing' }),
        result('c.ts', 'floor', 5, 5, 1, { stats: summarise([100, 100, 100]) }),
        result('c.ts', 'cli', 5, 5, 1, { anchorOf: 'floor', stats: summarise([250, 250, 400]) }),
      ],
      plan,
    );
    expect(rated[0]!.ratio).toBeUndefined();
    expect(rated[2]!.ratio).toBe(2.5);
    expect(rated[2]!.ratioOf).toBe('p50 ÷ floor p50');
  });

  it('summarises timings as nearest-rank percentiles', () => {
    const samples = Array.from({ length: 200 }, (_, i) => i + 1);
    expect(summarise(samples)).toEqual({ count: 200, p50: 100, p95: 190, p99: 198, max: 200, min: 1, mean: 100.5 });
  });
});
