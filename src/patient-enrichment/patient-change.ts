import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { systemClock } from '../ports/clock.js';
import { parseDomainPatient } from './domain-patient.js';
import { InvalidStreamRecordError, PatientValidationError } from './errors.js';
import { toFhirPatient } from './map-patient.js';
import type { PatientChange, PatientEnrichmentOptions, PatientStreamRecord, StreamImage } from './types.js';

/** Default envelope `source`. */
export const DEFAULT_EVENT_SOURCE = 'tributary.patients';

const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

function unmarshallImage(image: StreamImage, name: string): Record<string, unknown> {
  try {
    return unmarshall(image as unknown as Record<string, AttributeValue>);
  } catch {
    // The library's message may quote attribute values; keep only which image was bad.
    throw new InvalidStreamRecordError(`dynamodb.${name} is not valid DynamoDB JSON`);
  }
}

/**
 * The instant a stream record was written, as ISO-8601 UTC. Accepts epoch seconds (Pipes, Lambda),
 * a `Date` (DynamoDB Streams SDK) or an ISO string; falls back to `now` when the record has none.
 *
 * @example
 * occurredAtOf(1700076551, new Date()) // '2023-11-15T19:29:11.000Z'
 */
export function occurredAtOf(value: number | string | Date | undefined, now: Date): string {
  if (value === undefined) return now.toISOString();
  let date: Date;
  if (value instanceof Date) date = value;
  else if (typeof value === 'number') date = new Date(value * 1000);
  else if (/^\d+(\.\d+)?$/.test(value.trim())) date = new Date(Number(value) * 1000);
  else date = new Date(value);
  if (Number.isNaN(date.getTime()))
    throw new InvalidStreamRecordError('dynamodb.ApproximateCreationDateTime is not a time');
  return date.toISOString();
}

function deletedPatientId(record: PatientStreamRecord, keyAttribute: string): string {
  const image = record.dynamodb?.Keys ?? record.dynamodb?.OldImage;
  if (!image) throw new InvalidStreamRecordError('REMOVE record has neither dynamodb.Keys nor dynamodb.OldImage');
  const id = unmarshallImage(image, record.dynamodb?.Keys ? 'Keys' : 'OldImage')[keyAttribute];
  const text = typeof id === 'number' || typeof id === 'bigint' ? String(id) : id;
  if (typeof text !== 'string' || !FHIR_ID.test(text)) {
    throw new PatientValidationError([{ field: keyAttribute, problem: 'missing or not a FHIR id' }]);
  }
  return text;
}

/**
 * Turns one DynamoDB stream record of the `Patients` table into a {@link PatientChange}:
 * INSERT/MODIFY → `PUT` with the mapped FHIR Patient; REMOVE → `DELETE` with `Patient/<id>`.
 * Throws a {@link PatientEnrichmentError} (no PHI in the message) when the record is unusable.
 *
 * @example
 * const change = toPatientChange(record, { source: 'tributary.patients' });
 */
export function toPatientChange(record: PatientStreamRecord, options: PatientEnrichmentOptions = {}): PatientChange {
  const clock = options.clock ?? systemClock;
  if (typeof record.eventID !== 'string' || record.eventID === '') {
    throw new InvalidStreamRecordError('record has no eventID');
  }
  const envelope = {
    version: '1.0',
    source: options.source ?? DEFAULT_EVENT_SOURCE,
    type: 'PatientChange',
    correlationId: record.eventID,
    occurredAt: occurredAtOf(record.dynamodb?.ApproximateCreationDateTime, clock.now()),
  } as const;
  switch (record.eventName) {
    case 'INSERT':
    case 'MODIFY': {
      const image = record.dynamodb?.NewImage;
      if (!image) {
        throw new InvalidStreamRecordError(
          `${record.eventName} record has no dynamodb.NewImage (the stream view type must include new images)`,
        );
      }
      const patient = toFhirPatient(parseDomainPatient(unmarshallImage(image, 'NewImage')), options);
      return { ...envelope, command: 'PUT', resource: patient };
    }
    case 'REMOVE':
      return {
        ...envelope,
        command: 'DELETE',
        resource: { reference: `Patient/${deletedPatientId(record, options.keyAttribute ?? 'id')}` },
      };
    default:
      throw new InvalidStreamRecordError('eventName must be INSERT, MODIFY or REMOVE');
  }
}
