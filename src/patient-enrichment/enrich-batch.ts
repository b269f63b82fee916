import { FhirValidationError, InvalidStreamRecordError, PatientEnrichmentError } from './errors.js';
import { toPatientChange } from './patient-change.js';
import type { EnrichmentFailure, EnrichmentResult, PatientEnrichmentOptions, PatientStreamRecord } from './types.js';
import { validatePatient } from './validate-patient.js';

function failureOf(record: PatientStreamRecord | undefined, index: number, error: unknown): EnrichmentFailure {
  const eventId = typeof record?.eventID === 'string' && record.eventID !== '' ? record.eventID : `index:${index}`;
  if (error instanceof PatientEnrichmentError) return { eventId, reason: error.message, errorType: error.name };
  // Unexpected errors may carry anything in their message; report the type only.
  const errorType = error instanceof Error ? error.name : 'UnknownError';
  return { eventId, reason: `unexpected ${errorType} while enriching`, errorType };
}

/**
 * Enriches a batch of `Patients` stream records (any size) into {@link PatientChange} events, in
 * input order. A record that cannot be enriched is reported in `failures` (eventId, reason, errorType;
 * never PHI) and the others still go through. Used by the local pipe and the Pipes enrichment Lambda.
 *
 * With `validate: true`, every produced Patient is also checked against the FHIR R4 definitions;
 * an invalid one becomes a `FhirValidationError` failure.
 *
 * @example
 * const { events, failures } = await enrichPatientBatch(records, { source: 'tributary.patients' });
 */
export async function enrichPatientBatch(
  records: readonly PatientStreamRecord[],
  options: PatientEnrichmentOptions = {},
): Promise<EnrichmentResult> {
  const result: EnrichmentResult = { events: [], failures: [] };
  for (const [index, record] of records.entries()) {
    try {
      if (typeof record !== 'object' || record === null) throw new InvalidStreamRecordError('record is not an object');
      const change = toPatientChange(record, options);
      if (options.validate && change.command === 'PUT') {
        const { valid, issues } = await validatePatient(change.resource);
        if (!valid) throw new FhirValidationError(issues.map((issue) => issue.expression));
      }
      result.events.push(change);
    } catch (error) {
      result.failures.push(failureOf(record, index, error));
    }
  }
  return result;
}
