import * as z from '../validation/zod-mini.js';
import { DEFAULT_IDENTIFIER_SYSTEM } from './map-patient.js';
import { DEFAULT_EVENT_SOURCE } from './patient-change.js';
import type { PatientEnrichmentOptions } from './types.js';

const flag = z.pipe(
  z.optional(z.enum(['true', 'false', '1', '0', ''])),
  z.transform((value: '' | '0' | '1' | 'true' | 'false' | undefined) => value === 'true' || value === '1'),
);
const nonEmpty = () => z.string().check(z.minLength(1));

/** Environment of the patient-enrichment Lambda. */
export const patientEnrichmentEnvSchema = z.object({
  TRIBUTARY_IDENTIFIER_SYSTEM: z._default(nonEmpty(), DEFAULT_IDENTIFIER_SYSTEM),
  TRIBUTARY_EVENT_SOURCE: z._default(nonEmpty(), DEFAULT_EVENT_SOURCE),
  /** SQS queue for records that cannot be enriched; unset means they are logged and dropped. */
  TRIBUTARY_ENRICHMENT_DLQ_URL: z.optional(z.url()),
  /** Validate every Patient against FHIR R4 at run time (adds about 1 s to a cold start). */
  TRIBUTARY_VALIDATE_FHIR: flag,
  TRIBUTARY_UNMAPPABLE_GENDER: z._default(z.enum(['reject', 'unknown']), 'reject'),
  /** FHIR base URL of the HealthLake datastore for the write-through; unset means no write-through. */
  TRIBUTARY_HEALTHLAKE_ENDPOINT: z.optional(z.url()),
  /** Region used to sign write-through requests (the Lambda runtime sets AWS_REGION). */
  AWS_REGION: z.optional(nonEmpty()),
});

/** Parsed environment of the patient-enrichment Lambda. */
export interface PatientEnrichmentConfig {
  options: PatientEnrichmentOptions;
  deadLetterQueueUrl?: string;
  /** Write-through target: the datastore's FHIR base URL and the signing region. */
  writeThrough?: { baseUrl: string; region: string };
}

/** Raised when the Lambda environment is invalid; names variables, not values. */
export class PatientEnrichmentConfigError extends Error {
  public override readonly name = 'PatientEnrichmentConfigError';
}

/**
 * Reads the enrichment settings from environment variables, with clear errors.
 *
 * @example
 * const { options, deadLetterQueueUrl } = loadPatientEnrichmentConfig(process.env);
 */
export function loadPatientEnrichmentConfig(env: Record<string, string | undefined>): PatientEnrichmentConfig {
  const parsed = patientEnrichmentEnvSchema.safeParse(env);
  if (!parsed.success) {
    const names = [...new Set(parsed.error.issues.map((issue) => issue.path.map(String).join('.')))];
    throw new PatientEnrichmentConfigError(`invalid environment variables: ${names.join(', ')}`);
  }
  const vars = parsed.data;
  return {
    options: {
      identifierSystem: vars.TRIBUTARY_IDENTIFIER_SYSTEM,
      source: vars.TRIBUTARY_EVENT_SOURCE,
      validate: vars.TRIBUTARY_VALIDATE_FHIR,
      unmappableGender: vars.TRIBUTARY_UNMAPPABLE_GENDER,
    },
    ...(vars.TRIBUTARY_ENRICHMENT_DLQ_URL ? { deadLetterQueueUrl: vars.TRIBUTARY_ENRICHMENT_DLQ_URL } : {}),
    ...(vars.TRIBUTARY_HEALTHLAKE_ENDPOINT
      ? {
          writeThrough: {
            baseUrl: vars.TRIBUTARY_HEALTHLAKE_ENDPOINT,
            region: vars.AWS_REGION ?? regionOf(vars.TRIBUTARY_HEALTHLAKE_ENDPOINT),
          },
        }
      : {}),
  };
}

/** The region in a HealthLake endpoint host (`healthlake.<region>.amazonaws.com`), else us-east-1. */
function regionOf(endpoint: string): string {
  return /^healthlake\.([a-z0-9-]+)\.amazonaws\.com$/.exec(new URL(endpoint).hostname)?.[1] ?? 'us-east-1';
}
