import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { FirehoseTransformationEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createFirehoseTransformHandler, handler } from '../../../src/handlers/firehose-transform.js';
import { streamRecord } from '../change-stream/fixtures.js';
import { captureConsoleOutput } from './lambda-test-env.js';

let output: string[];

beforeEach(() => {
  output = captureConsoleOutput();
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

const env = {
  TRIBUTARY_TABLE: 'Visits',
  TRIBUTARY_PARTITION_BY: 'siteId,year,month,day,minute',
  TRIBUTARY_EVENT_TIME: '{"attribute":"createdAtTime","unit":"ms"}',
};

function build() {
  return createFirehoseTransformHandler({
    env,
    logger: new Logger({ serviceName: 'firehose-transform' }),
    metrics: new Metrics({ namespace: 'Tributary', serviceName: 'firehose-transform' }),
  });
}

const encode = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64');

function event(records: Array<{ recordId: string; data: string }>): FirehoseTransformationEvent {
  return {
    invocationId: 'inv-1',
    deliveryStreamArn: 'arn:aws:firehose:us-east-1:123456789012:deliverystream/tributary-visits',
    region: 'us-east-1',
    records: records.map((record) => ({ ...record, approximateArrivalTimestamp: 1700076551926 })),
  };
}

describe('firehose-transform handler', () => {
  it('returns Ok lines with partition keys from the same partitioning code, and ProcessingFailed for bad records', async () => {
    const secret = {
      dynamodb: { NewImage: { id: { S: '7' }, name: { S: 'Jane Secretname' }, createdAtTime: { N: '1' } } },
    }; // no siteId
    const result = await build()(
      event([
        { recordId: 'r1', data: encode(streamRecord()) },
        { recordId: 'r2', data: encode(streamRecord({ eventID: 'e-bad', ...secret })) },
        { recordId: 'r3', data: 'not-base64-json' },
      ]),
    );
    expect(result.records.map((record) => record.result)).toEqual(['Ok', 'ProcessingFailed', 'ProcessingFailed']);
    expect(result.records[0]?.metadata?.partitionKeys).toEqual({
      siteId: '2',
      year: '2023',
      month: '11',
      day: '15',
      minute: '29',
    });
    const line = Buffer.from(result.records[0]?.data ?? '', 'base64').toString('utf8');
    expect(line).toMatch(
      /^\{"op":"c","table":"Visits",.*"ts":"2023-11-15T19:29:11\.926Z","source":\{"kind":"stream",.*\}\}\n$/,
    );
    expect(result.records[2]?.data).toBe('not-base64-json');

    const logged = output.join('');
    expect(logged).toContain('e-bad');
    expect(logged).toContain('MissingPartitionAttribute');
    expect(logged).not.toContain('Secretname'); // no PHI in logs
    expect(logged).toContain('ChangeRecordsFailed'); // EMF metrics
  });

  it('an empty batch returns no records', async () => {
    expect(await build()(event([]))).toEqual({ records: [] });
  });

  it('a bad configuration fails the build with the variable named', () => {
    expect(() => createFirehoseTransformHandler({ env: { TRIBUTARY_PARTITION_BY: 'x' } })).toThrow(/TRIBUTARY_TABLE/);
  });

  it('the exported handler reads its config from the environment on first use', async () => {
    vi.stubEnv('TRIBUTARY_TABLE', 'Visits');
    vi.stubEnv('TRIBUTARY_PARTITION_BY', 'siteId');
    const result = await handler(event([{ recordId: 'r1', data: encode(streamRecord()) }]));
    expect(result.records[0]).toMatchObject({ result: 'Ok', metadata: { partitionKeys: { siteId: '2' } } });
  });
});
