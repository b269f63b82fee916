import { marshall } from '@aws-sdk/util-dynamodb';
import { expect } from 'vitest';
import type { PatientStreamRecord, StreamImage } from '../../../src/patient-enrichment/index.js';
import { validatePatient } from '../../../src/patient-enrichment/index.js';

/** A complete domain patient; every value is distinctive so PHI leaks are easy to spot. */
export function domainPatient(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'p-123',
    firstName: 'Jolene',
    middleName: 'Quinta',
    lastName: 'Dravenhart',
    birthDate: '07-13-1991',
    gender: 'F',
    phone: '+1-555-0100',
    email: 'jolene@example.org',
    address: { address1: '12 Larkspur Lane', address2: 'Apt 4', city: 'Springfield', state: 'IL', postalCode: '62704' },
    ...overrides,
  };
}

let sequence = 0;

/** A Pipes-shaped stream record for a domain patient item. */
export function streamRecord(
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE',
  item: Record<string, unknown>,
  overrides: Partial<PatientStreamRecord> = {},
): PatientStreamRecord {
  sequence += 1;
  const image = marshall(item, { removeUndefinedValues: true }) as StreamImage;
  const keys = marshall({ id: item.id }, { removeUndefinedValues: true }) as StreamImage;
  return {
    eventID: `evt-${sequence}`,
    eventName,
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    eventSourceARN: 'arn:aws:dynamodb:us-east-1:123456789012:table/Patients/stream/2024-01-01T00:00:00.000',
    dynamodb: {
      ApproximateCreationDateTime: 1_700_076_551,
      Keys: keys,
      ...(eventName === 'REMOVE' ? { OldImage: image } : { NewImage: image }),
      SequenceNumber: String(1000 + sequence),
      SizeBytes: 200,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
    ...overrides,
  };
}

/** Fails the test unless the resource is a valid FHIR R4 Patient. */
export async function expectValidFhirPatient(resource: unknown): Promise<void> {
  const result = await validatePatient(resource);
  expect(result.issues).toEqual([]);
  expect(result.valid).toBe(true);
}

/** PHI values of {@link domainPatient}, for "never in logs" assertions. */
export const PHI_VALUES = [
  'Jolene',
  'Quinta',
  'Dravenhart',
  '07-13-1991',
  '1991-07-13',
  '12 Larkspur Lane',
  'Springfield',
  '555-0100',
  'jolene@example.org',
];
