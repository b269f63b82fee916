import { describe, expect, it } from 'vitest';
import {
  enrichPatientBatch,
  type FhirPatient,
  type PatientStreamRecord,
} from '../../../src/patient-enrichment/index.js';
import { domainPatient, expectValidFhirPatient, PHI_VALUES, streamRecord } from './fixtures.js';

const clock = { now: () => new Date('2025-06-15T12:00:00Z') };

describe('enrichPatientBatch', () => {
  it('wraps an INSERT in a PUT envelope', async () => {
    const record = streamRecord('INSERT', domainPatient());
    const { events, failures } = await enrichPatientBatch([record], { clock });
    expect(failures).toEqual([]);
    expect(events).toHaveLength(1);
    const [event] = events;
    expect(event).toMatchObject({
      version: '1.0',
      source: 'tributary.patients',
      type: 'PatientChange',
      correlationId: record.eventID,
      command: 'PUT',
      occurredAt: '2023-11-15T19:29:11.000Z',
    });
    expect((event?.resource as FhirPatient).birthDate).toBe('1991-07-13');
    await expectValidFhirPatient(event?.resource);
  });

  it('maps MODIFY to PUT and uses a configured source', async () => {
    const { events } = await enrichPatientBatch([streamRecord('MODIFY', domainPatient())], {
      clock,
      source: 'acme.patients',
    });
    expect(events[0]).toMatchObject({ command: 'PUT', source: 'acme.patients' });
  });

  it('maps REMOVE to DELETE with a reference taken from Keys', async () => {
    const record = streamRecord('REMOVE', domainPatient({ id: 'p-9' }));
    const { events, failures } = await enrichPatientBatch([record], { clock });
    expect(failures).toEqual([]);
    expect(events).toEqual([
      {
        version: '1.0',
        source: 'tributary.patients',
        type: 'PatientChange',
        correlationId: record.eventID,
        command: 'DELETE',
        occurredAt: '2023-11-15T19:29:11.000Z',
        resource: { reference: 'Patient/p-9' },
      },
    ]);
  });

  it('takes the deleted id from OldImage when Keys is absent, and deletes even an invalid old image', async () => {
    const record = streamRecord('REMOVE', { id: 'p-7', firstName: 42 });
    delete record.dynamodb?.Keys;
    const { events } = await enrichPatientBatch([record], { clock });
    expect(events[0]?.resource).toEqual({ reference: 'Patient/p-7' });
  });

  it('accepts the DynamoDB Streams SDK shape (Date) and falls back to the clock without a time', async () => {
    const withDate = streamRecord('INSERT', domainPatient());
    withDate.dynamodb!.ApproximateCreationDateTime = new Date('2024-02-29T10:00:00Z');
    const withoutTime = streamRecord('INSERT', domainPatient());
    delete withoutTime.dynamodb!.ApproximateCreationDateTime;
    const { events } = await enrichPatientBatch([withDate, withoutTime], { clock });
    expect(events.map((e) => e.occurredAt)).toEqual(['2024-02-29T10:00:00.000Z', '2025-06-15T12:00:00.000Z']);
  });

  it('enriches a batch of one and a batch of 250, in order', async () => {
    expect((await enrichPatientBatch([streamRecord('INSERT', domainPatient())], { clock })).events).toHaveLength(1);
    const records = Array.from({ length: 250 }, (_, i) => streamRecord('INSERT', domainPatient({ id: `p-${i}` })));
    const { events, failures } = await enrichPatientBatch(records, { clock });
    expect(failures).toEqual([]);
    expect(events.map((e) => (e.resource as FhirPatient).id)).toEqual(records.map((_, i) => `p-${i}`));
    expect(events.map((e) => e.correlationId)).toEqual(records.map((r) => r.eventID));
  });

  it('reports bad records by eventID and lets the rest through', async () => {
    const good1 = streamRecord('INSERT', domainPatient({ id: 'good-1' }));
    const badDate = streamRecord('INSERT', domainPatient({ id: 'bad-1', birthDate: '02-29-2023' }));
    const missing = streamRecord('MODIFY', domainPatient({ id: 'bad-2', lastName: undefined }));
    const noImage = streamRecord('MODIFY', domainPatient({ id: 'bad-3' }));
    delete noImage.dynamodb!.NewImage;
    const unknownEvent = streamRecord('INSERT', domainPatient(), { eventName: 'TRUNCATE' });
    const good2 = streamRecord('REMOVE', domainPatient({ id: 'good-2' }));
    const { events, failures } = await enrichPatientBatch([good1, badDate, missing, noImage, unknownEvent, good2], {
      clock,
    });
    expect(events.map((e) => e.correlationId)).toEqual([good1.eventID, good2.eventID]);
    expect(failures).toEqual([
      {
        eventId: badDate.eventID,
        reason: 'invalid patient fields: birthDate (day out of range for month)',
        errorType: 'PatientValidationError',
      },
      {
        eventId: missing.eventID,
        reason: 'invalid patient fields: lastName (required)',
        errorType: 'PatientValidationError',
      },
      {
        eventId: noImage.eventID,
        reason: expect.stringContaining('no dynamodb.NewImage'),
        errorType: 'InvalidStreamRecordError',
      },
      {
        eventId: unknownEvent.eventID,
        reason: 'eventName must be INSERT, MODIFY or REMOVE',
        errorType: 'InvalidStreamRecordError',
      },
    ]);
  });

  it('reports records without an eventID, malformed images and non-objects by index', async () => {
    const noId = streamRecord('INSERT', domainPatient());
    delete noId.eventID;
    const malformed = streamRecord('INSERT', domainPatient());
    malformed.dynamodb!.NewImage = { firstName: { Q: 'Jolene' } };
    const { events, failures } = await enrichPatientBatch([noId, malformed, null as unknown as PatientStreamRecord], {
      clock,
    });
    expect(events).toEqual([]);
    expect(failures.map((f) => [f.eventId, f.errorType])).toEqual([
      ['index:0', 'InvalidStreamRecordError'],
      [malformed.eventID, 'InvalidStreamRecordError'],
      ['index:2', 'InvalidStreamRecordError'],
    ]);
  });

  it('never puts PHI in failure reasons', async () => {
    const records = [
      streamRecord('INSERT', domainPatient({ birthDate: '13-13-1991', gender: 'Jolene-ish' })),
      streamRecord('INSERT', domainPatient({ firstName: 7, email: 'Dravenhart at home' })),
      streamRecord('INSERT', { firstName: { nested: 'Jolene' }, lastName: 'Dravenhart' }),
    ];
    const { failures } = await enrichPatientBatch(records, { clock });
    expect(failures).toHaveLength(3);
    const text = JSON.stringify(failures);
    for (const value of [...PHI_VALUES, '13-13-1991', 'Jolene-ish', 'Dravenhart at home'])
      expect(text).not.toContain(value);
  });

  it('validates at run time when asked and passes valid Patients', async () => {
    const { events, failures } = await enrichPatientBatch([streamRecord('INSERT', domainPatient())], {
      clock,
      validate: true,
    });
    expect(failures).toEqual([]);
    expect(events).toHaveLength(1);
  });
});
