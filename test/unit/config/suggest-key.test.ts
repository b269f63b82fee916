import { describe, expect, it } from 'vitest';
import { editDistance, suggestKey } from '../../../src/config/suggest-key.js';

describe('suggestKey', () => {
  it('edit distance counts a swap of adjacent letters as one edit', () => {
    expect(editDistance('fliter', 'filter')).toBe(1);
    expect(editDistance('partitonBy', 'partitionBy')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });

  it('suggests the closest key, ignoring case, and nothing when none is close', () => {
    expect(suggestKey('Region', ['region', 'lake'])).toBe('region');
    expect(suggestKey('batchSise', ['batchSize', 'batchWindowSeconds'])).toBe('batchSize');
    expect(suggestKey('colour', ['filter', 'region'])).toBeUndefined();
  });
});
