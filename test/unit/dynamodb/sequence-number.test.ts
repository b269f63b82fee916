import { describe, expect, it } from 'vitest';
import { formatSequenceNumber, parseSequenceNumber } from '../../../src/local/dynamodb/stream-store.js';

describe('sequence numbers', () => {
  it('are 21-digit numeric strings that sort like their positions', () => {
    expect(formatSequenceNumber(1n)).toBe('100000000000000000001');
    expect(formatSequenceNumber(9_000_000_000_000_000_000n)).toHaveLength(21);
    expect(BigInt(formatSequenceNumber(10n))).toBeGreaterThan(BigInt(formatSequenceNumber(9n)));
  });

  it('round-trip, and foreign strings parse to undefined', () => {
    expect(parseSequenceNumber(formatSequenceNumber(42n))).toBe(42n);
    expect(parseSequenceNumber('12')).toBeUndefined();
    expect(parseSequenceNumber('abc')).toBeUndefined();
    expect(parseSequenceNumber('000000000000000000001')).toBeUndefined();
  });
});
