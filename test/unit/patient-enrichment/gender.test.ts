import { describe, expect, it } from 'vitest';
import { PatientValidationError, toFhirGender } from '../../../src/patient-enrichment/index.js';

describe('toFhirGender', () => {
  it.each([
    ['M', 'male'],
    ['male', 'male'],
    [' Male ', 'male'],
    ['F', 'female'],
    ['female', 'female'],
    ['FEMALE', 'female'],
    ['x', 'other'],
    ['X', 'other'],
    ['non-binary', 'other'],
    ['Non Binary', 'other'],
    ['nonbinary', 'other'],
    ['other', 'other'],
    ['U', 'unknown'],
    ['unknown', 'unknown'],
  ])('maps %j to %s', (input, expected) => {
    expect(toFhirGender(input)).toBe(expected);
  });

  it('rejects an unrecognised spelling by default, naming the field only', () => {
    expect(() => toFhirGender('zebra')).toThrow(PatientValidationError);
    expect(() => toFhirGender('zebra')).toThrow(/gender \(not a recognised gender\)/);
    expect(() => toFhirGender('zebra')).not.toThrow(/zebra/);
  });

  it("maps an unrecognised spelling to 'unknown' under the 'unknown' policy", () => {
    expect(toFhirGender('zebra', 'unknown')).toBe('unknown');
  });
});
