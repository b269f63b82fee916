import { describe, expect, it } from 'vitest';
import { fhirDateRange } from '../../../src/local/fhir-store/date-range.js';

describe('fhirDateRange', () => {
  it('widens partial dates to their precision', () => {
    expect(fhirDateRange('1991')).toEqual({ start: '1991-01-01T00:00:00.000Z', end: '1992-01-01T00:00:00.000Z' });
    expect(fhirDateRange('1991-12')).toEqual({ start: '1991-12-01T00:00:00.000Z', end: '1992-01-01T00:00:00.000Z' });
    expect(fhirDateRange('1991-07-13')).toEqual({ start: '1991-07-13T00:00:00.000Z', end: '1991-07-14T00:00:00.000Z' });
  });

  it('reads instants with zones and fractions', () => {
    expect(fhirDateRange('2024-01-01T10:00:00+02:00')).toEqual({
      start: '2024-01-01T08:00:00.000Z',
      end: '2024-01-01T08:00:01.000Z',
    });
    expect(fhirDateRange('2024-01-01T10:00:00.123Z')).toEqual({
      start: '2024-01-01T10:00:00.123Z',
      end: '2024-01-01T10:00:00.124Z',
    });
    expect(fhirDateRange('2024-01-01T10:00Z')?.end).toBe('2024-01-01T10:01:00.000Z');
  });

  it('rejects what is not a FHIR date', () => {
    for (const value of ['07-13-1991', '1991-13', '1991-01-32', 'yesterday', '', '2024-01-01T25'])
      expect(fhirDateRange(value)).toBeUndefined();
  });
});
