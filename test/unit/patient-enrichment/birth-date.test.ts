import { describe, expect, it } from 'vitest';
import { PatientValidationError, toFhirBirthDate } from '../../../src/patient-enrichment/index.js';

describe('toFhirBirthDate', () => {
  it.each([
    ['07-13-1991', '1991-07-13'],
    ['7-4-1991', '1991-07-04'],
    ['1-1-2000', '2000-01-01'],
    ['  07-13-1991 ', '1991-07-13'],
    ['\t12-31-1999\n', '1999-12-31'],
    ['02-29-2024', '2024-02-29'],
    ['02-29-2000', '2000-02-29'],
    ['02-28-2023', '2023-02-28'],
    ['01-01-0001', '0001-01-01'],
  ])('converts %j to %s', (input, expected) => {
    expect(toFhirBirthDate(input)).toBe(expected);
  });

  it.each([
    ['02-29-2023', 'day out of range for month'],
    ['02-29-1900', 'day out of range for month'],
    ['02-30-2024', 'day out of range for month'],
    ['04-31-2020', 'day out of range for month'],
    ['13-01-2020', 'month out of range'],
    ['00-10-2020', 'month out of range'],
    ['10-00-2020', 'day out of range for month'],
    ['01-01-0000', 'year out of range'],
    ['1991-07-13', 'expected MM-DD-YYYY'],
    ['07/13/1991', 'expected MM-DD-YYYY'],
    ['07-13-91', 'expected MM-DD-YYYY'],
    ['07 -13-1991', 'expected MM-DD-YYYY'],
    ['', 'expected MM-DD-YYYY'],
  ])('rejects %j (%s) naming the field, not the value', (input, problem) => {
    let caught: unknown;
    try {
      toFhirBirthDate(input);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(PatientValidationError);
    const error = caught as PatientValidationError;
    expect(error.problems).toEqual([{ field: 'birthDate', problem }]);
    if (input.trim() !== '') expect(error.message).not.toContain(input.trim());
  });

  it('rejects future dates only when a limit is given', () => {
    expect(() => toFhirBirthDate('01-02-2030', { notAfter: '2030-01-01' })).toThrow(
      /birthDate \(date is in the future\)/,
    );
    expect(toFhirBirthDate('01-01-2030', { notAfter: '2030-01-01' })).toBe('2030-01-01');
    expect(toFhirBirthDate('01-02-2030')).toBe('2030-01-02');
  });
});
