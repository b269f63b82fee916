import * as z from '../validation/zod-mini.js';
import { PatientValidationError, type FieldProblem } from './errors.js';

/** Absent, `null` and blank strings all mean "not given" for optional fields. */
const blankToUndefined = (value: unknown) =>
  value === null || (typeof value === 'string' && value.trim() === '') ? undefined : value;

const requiredText = z.string().check(z.trim(), z.minLength(1));
const optionalText = z.pipe(z.transform(blankToUndefined), z.optional(z.string().check(z.trim(), z.minLength(1))));

/** FHIR `id`: 1-64 of `A-Z a-z 0-9 - .` */
const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;
/** Deliberately loose: one `@`, no whitespace. Mail systems are the real judge. */
const EMAIL = /^[^\s@]+@[^\s@]+$/;

/**
 * The domain patient record as stored in the `Patients` table.
 * `birthDate` is `MM-DD-YYYY`; calendar checks happen in the mapping.
 */
export const domainPatientSchema = z.object({
  id: z.string().check(z.trim(), z.regex(FHIR_ID, 'must be a FHIR id (1-64 of A-Z a-z 0-9 - .)')),
  firstName: requiredText,
  middleName: optionalText,
  lastName: requiredText,
  birthDate: requiredText,
  gender: optionalText,
  phone: optionalText,
  email: z.pipe(
    z.transform(blankToUndefined),
    z.optional(z.string().check(z.trim(), z.regex(EMAIL, 'not an email address'))),
  ),
  address: z.object({
    address1: requiredText,
    address2: optionalText,
    city: requiredText,
    state: requiredText,
    postalCode: requiredText,
  }),
});

/** A validated domain patient. */
export type DomainPatient = z.infer<typeof domainPatientSchema>;

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.message.endsWith('received undefined') ? 'required' : `expected ${issue.expected}`;
    case 'too_small':
      return 'must not be empty';
    case 'invalid_format':
      // Our own regex messages describe the rule, never the value.
      return issue.message.startsWith('Invalid') ? 'invalid format' : issue.message;
    default:
      return 'invalid';
  }
}

/**
 * Validates an unmarshalled item as a domain patient. On failure the error lists every bad field
 * by path (`address.city`) with the rule it broke, never the value.
 *
 * @example
 * const patient = parseDomainPatient(unmarshall(record.dynamodb.NewImage));
 */
export function parseDomainPatient(item: unknown): DomainPatient {
  const result = domainPatientSchema.safeParse(item);
  if (result.success) return result.data;
  const problems: FieldProblem[] = result.error.issues.map((issue) => ({
    field: issue.path.length > 0 ? issue.path.map(String).join('.') : '(record)',
    problem: describeIssue(issue),
  }));
  throw new PatientValidationError(problems);
}
