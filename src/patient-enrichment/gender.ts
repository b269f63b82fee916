import { PatientValidationError } from './errors.js';
import type { FhirGender, UnmappableGenderPolicy } from './types.js';

/** Domain spellings (lower-cased, trimmed) → FHIR administrative-gender. */
const GENDER_SPELLINGS: ReadonlyMap<string, FhirGender> = new Map<string, FhirGender>([
  ...['m', 'male', 'man', 'masculine'].map((s) => [s, 'male'] as const),
  ...['f', 'female', 'woman', 'feminine'].map((s) => [s, 'female'] as const),
  ...['o', 'other', 'x', 'nonbinary', 'non-binary', 'non binary', 'nb', 'enby', 'intersex', 'diverse'].map(
    (s) => [s, 'other'] as const,
  ),
  ...['u', 'unknown', 'unk', 'not known', 'undisclosed', 'prefer not to say', 'declined'].map(
    (s) => [s, 'unknown'] as const,
  ),
]);

/**
 * Maps a domain gender spelling to the FHIR administrative-gender value set
 * (`male | female | other | unknown`). Case and surrounding whitespace are ignored.
 *
 * An unrecognised spelling fails the record by default (policy `reject`): silently coercing it to
 * `unknown` would change its meaning, and a failed record is reported and kept (failures / DLQ), not lost.
 * Policy `unknown` maps it to `unknown` instead.
 *
 * @example
 * toFhirGender('F')          // 'female'
 * toFhirGender('non-binary') // 'other'
 * toFhirGender('?', 'unknown') // 'unknown'
 */
export function toFhirGender(value: string, policy: UnmappableGenderPolicy = 'reject'): FhirGender {
  const mapped = GENDER_SPELLINGS.get(
    value
      .trim()
      .toLowerCase()
      .replace(/[_\s]+/g, ' '),
  );
  if (mapped) return mapped;
  if (policy === 'unknown') return 'unknown';
  throw new PatientValidationError([{ field: 'gender', problem: 'not a recognised gender' }]);
}
