import type { PatientEnrichmentConfig } from '../config/schema.js';
import type { ErrorSink } from '../lake/error-sink.js';
import { enrichPatientBatch } from '../patient-enrichment/enrich-batch.js';
import type { FhirWriteThrough } from '../patient-enrichment/fhir-write-through.js';
import { toPatientBusEvents } from '../patient-enrichment/patient-bus-event.js';
import type { PatientStreamRecord } from '../patient-enrichment/types.js';
import type { StreamRecord } from '../change-stream/types.js';
import type { Enrichment } from './types.js';

/**
 * The `patient-fhir` enrichment of a local pipe: the same `enrichPatientBatch` as the Pipes Lambda,
 * with failures sent to the error location (by event id) and, optionally, a write-through to the FHIR store.
 *
 * @example
 * const enrich = patientEnrichmentStep(config.patientEnrichment, errors);
 * const busEvents = await enrich(records);
 */
export function patientEnrichmentStep(
  options: PatientEnrichmentConfig,
  errors: ErrorSink,
  writeThrough?: FhirWriteThrough,
): Enrichment {
  return async (records: StreamRecord[]) => {
    const { events, failures } = await enrichPatientBatch(records as PatientStreamRecord[], {
      identifierSystem: options.identifierSystem,
      source: options.source,
      validate: options.validate,
    });
    const byId = new Map(records.map((record) => [record.eventID, record]));
    for (const failure of failures) {
      await errors.add({
        reason: failure.reason,
        errorType: failure.errorType,
        eventId: failure.eventId,
        record: byId.get(failure.eventId),
      });
    }
    if (writeThrough && events.length > 0) {
      const result = await writeThrough.applyAll(events);
      for (const failure of result.failures) {
        await errors.add({
          reason: failure.reason,
          errorType: failure.errorType,
          eventId: failure.eventId,
          record: byId.get(failure.eventId),
        });
      }
    }
    return toPatientBusEvents(events);
  };
}
