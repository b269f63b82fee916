import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPatientEnrichmentHandler } from '../../../src/handlers/patient-enrichment.js';
import { PatientEnrichmentConfigError, type FhirPatient } from '../../../src/patient-enrichment/index.js';
import { domainPatient, PHI_VALUES, streamRecord } from '../patient-enrichment/fixtures.js';
import { captureConsoleOutput } from './lambda-test-env.js';

const sqsMock = mockClient(SQSClient);
let output: string[];

beforeEach(() => {
  output = captureConsoleOutput();
});
afterEach(() => {
  vi.restoreAllMocks();
  sqsMock.reset();
});

function handlerWith(env: Record<string, string> = {}) {
  return createPatientEnrichmentHandler({
    env,
    logger: new Logger({ serviceName: 'patient-enrichment' }),
    metrics: new Metrics({ namespace: 'Tributary', serviceName: 'patient-enrichment' }),
    sqs: new SQSClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }),
  });
}

const mixedBatch = () => [
  streamRecord('INSERT', domainPatient({ id: 'ok-1' })),
  streamRecord('MODIFY', domainPatient({ id: 'bad-1', birthDate: '02-29-2023' })),
  streamRecord('REMOVE', domainPatient({ id: 'ok-2' })),
  streamRecord(
    'INSERT',
    domainPatient({ id: 'bad-2', address: { address1: '12 Larkspur Lane', city: 'Springfield' } }),
  ),
];

describe('patient-enrichment handler (EventBridge Pipes enrichment)', () => {
  it('returns a bare array of PatientChange for a bare array of stream records, dropping bad ones', async () => {
    const records = mixedBatch();
    const result = await handlerWith()(records);
    expect(Array.isArray(result)).toBe(true);
    expect(result.map((e) => [e.correlationId, e.command])).toEqual([
      [records[0]!.eventID, 'PUT'],
      [records[2]!.eventID, 'DELETE'],
    ]);
  });

  it('logs dropped records by eventId and reason and never logs PHI', async () => {
    const records = mixedBatch();
    await handlerWith()(records);
    const logs = output.join('');
    expect(logs).toContain(records[1]!.eventID);
    expect(logs).toContain('birthDate (day out of range for month)');
    expect(logs).toContain(records[3]!.eventID);
    expect(logs).toContain('address.state (required)');
    for (const value of [...PHI_VALUES, '02-29-2023']) expect(logs).not.toContain(value);
  });

  it('publishes ok and failed counts as metrics', async () => {
    await handlerWith()(mixedBatch());
    const emf = output
      .map((line) => line.trim())
      .filter((line) => line.includes('"_aws"'))
      .map((line) => JSON.parse(line));
    expect(emf).toHaveLength(1);
    expect(emf[0]).toMatchObject({ PatientChangesEnriched: 2, PatientChangesFailed: 2 });
  });

  it('takes the identifier system and event source from the environment', async () => {
    const [event] = await handlerWith({
      TRIBUTARY_IDENTIFIER_SYSTEM: 'urn:acme:mrn',
      TRIBUTARY_EVENT_SOURCE: 'acme.patients',
    })([streamRecord('INSERT', domainPatient())]);
    expect(event?.source).toBe('acme.patients');
    expect((event?.resource as FhirPatient).identifier).toEqual([{ system: 'urn:acme:mrn', value: 'p-123' }]);
  });

  it('parks bad records with their reason on the dead-letter queue when configured', async () => {
    sqsMock.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const records = mixedBatch();
    const queueUrl = 'https://sqs.us-east-1.amazonaws.com/123456789012/enrichment-dlq';
    const result = await handlerWith({ TRIBUTARY_ENRICHMENT_DLQ_URL: queueUrl })(records);
    expect(result).toHaveLength(2);
    const calls = sqsMock.commandCalls(SendMessageBatchCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input.QueueUrl).toBe(queueUrl);
    const bodies = (calls[0]?.args[0].input.Entries ?? []).map((entry) => JSON.parse(entry.MessageBody ?? '{}'));
    expect(bodies.map((b) => [b.eventId, b.errorType])).toEqual([
      [records[1]!.eventID, 'PatientValidationError'],
      [records[3]!.eventID, 'PatientValidationError'],
    ]);
    expect(bodies[0].record).toEqual(JSON.parse(JSON.stringify(records[1])));
  });

  it('sends nothing to the dead-letter queue when every record is good', async () => {
    const queueUrl = 'https://sqs.us-east-1.amazonaws.com/123456789012/enrichment-dlq';
    await handlerWith({ TRIBUTARY_ENRICHMENT_DLQ_URL: queueUrl })([streamRecord('INSERT', domainPatient())]);
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });

  it('fails the batch (so Pipes retries it) when the dead-letter queue rejects a record', async () => {
    sqsMock
      .on(SendMessageBatchCommand)
      .resolves({ Successful: [], Failed: [{ Id: '0', Code: 'KMS.AccessDenied', SenderFault: true }] });
    const handler = handlerWith({ TRIBUTARY_ENRICHMENT_DLQ_URL: 'https://sqs.us-east-1.amazonaws.com/1/dlq' });
    await expect(handler(mixedBatch())).rejects.toThrow(/dead-letter queue rejected 1 message/);
  });

  it('rejects input that is not a bare array', async () => {
    await expect(handlerWith()({ Records: [] })).rejects.toThrow(/bare array/);
  });

  it('returns an empty array for an empty batch', async () => {
    expect(await handlerWith()([])).toEqual([]);
  });

  it('names invalid environment variables', () => {
    expect(() => handlerWith({ TRIBUTARY_ENRICHMENT_DLQ_URL: 'not a url' })).toThrow(PatientEnrichmentConfigError);
    expect(() => handlerWith({ TRIBUTARY_UNMAPPABLE_GENDER: 'guess' })).toThrow(/TRIBUTARY_UNMAPPABLE_GENDER/);
  });
});

describe('patient-enrichment handler write-through', () => {
  it('applies each change to the FHIR store, and parks refused writes on the DLQ while the events still go out', async () => {
    sqsMock
      .on(SendMessageBatchCommand)
      .resolves({ Successful: [{ Id: '0', MessageId: 'm', MD5OfMessageBody: 'x' }], Failed: [] });
    const calls: Array<{ method: string; url: string }> = [];
    // A store that has nothing yet, accepts ok-1 and refuses ok-3.
    const fakeFetch = (async (url: string, init: RequestInit = {}) => {
      const method = init.method ?? 'GET';
      calls.push({ method, url });
      if (method === 'GET') return new Response('{}', { status: 404 });
      if (url.endsWith('/Patient/ok-3')) return new Response('{"resourceType":"OperationOutcome"}', { status: 400 });
      return new Response('{"resourceType":"Patient","meta":{"versionId":"1"}}', { status: 201 });
    }) as typeof fetch;
    const { FhirWriteThrough } = await import('../../../src/patient-enrichment/index.js');
    const handler = createPatientEnrichmentHandler({
      env: { TRIBUTARY_ENRICHMENT_DLQ_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/dlq' },
      logger: new Logger({ serviceName: 'patient-enrichment' }),
      metrics: new Metrics({ namespace: 'Tributary', serviceName: 'patient-enrichment' }),
      sqs: new SQSClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }),
      writeThrough: new FhirWriteThrough({ baseUrl: 'https://healthlake.example/datastore/d/r4', fetch: fakeFetch }),
    });
    const records = [
      streamRecord('INSERT', domainPatient({ id: 'ok-1' })),
      streamRecord('INSERT', domainPatient({ id: 'ok-3' })),
    ];
    const events = await handler(records);
    expect(events).toHaveLength(2);
    expect(calls.filter((c) => c.method === 'PUT').map((c) => c.url)).toEqual([
      'https://healthlake.example/datastore/d/r4/Patient/ok-1',
      'https://healthlake.example/datastore/d/r4/Patient/ok-3',
    ]);
    const parked = sqsMock.commandCalls(SendMessageBatchCommand).flatMap((call) => call.args[0].input.Entries ?? []);
    expect(parked).toHaveLength(1);
    expect(parked[0]!.MessageBody).toContain(records[1]!.eventID);
    expect(output.join('')).toContain('patient write-through failed');
  });

  it('reads the write-through target from the environment', async () => {
    const { loadPatientEnrichmentConfig } = await import('../../../src/patient-enrichment/index.js');
    const config = loadPatientEnrichmentConfig({
      TRIBUTARY_HEALTHLAKE_ENDPOINT: 'https://healthlake.eu-west-2.amazonaws.com/datastore/abc/r4/',
    });
    expect(config.writeThrough).toEqual({
      baseUrl: 'https://healthlake.eu-west-2.amazonaws.com/datastore/abc/r4/',
      region: 'eu-west-2',
    });
  });
});
