import { describe, expect, it } from 'vitest';
import {
  firehosePrefix,
  loadFirehoseTransformConfig,
  transformFirehoseRecords,
} from '../../../src/change-stream/index.js';
import { ConfigError } from '../../../src/config/errors.js';
import { streamRecord } from './fixtures.js';

const encode = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64');
const decode = (data: string | undefined) => Buffer.from(data ?? '', 'base64').toString('utf8');

describe('loadFirehoseTransformConfig', () => {
  it('parses table, partition list and event time', () => {
    expect(
      loadFirehoseTransformConfig({
        TRIBUTARY_TABLE: 'Visits',
        TRIBUTARY_PARTITION_BY: 'siteId, year,month,day,minute',
        TRIBUTARY_EVENT_TIME: '{"attribute":"createdAtTime","unit":"ms"}',
      }),
    ).toEqual({
      name: 'Visits',
      ttlAttribute: undefined,
      pipe: {
        partitionBy: ['siteId', 'year', 'month', 'day', 'minute'],
        eventTime: { attribute: 'createdAtTime', unit: 'ms' },
      },
    });
  });

  it('defaults to year,month,day and no event-time attribute', () => {
    expect(loadFirehoseTransformConfig({ TRIBUTARY_TABLE: 'Visits' }).pipe).toEqual({
      partitionBy: ['year', 'month', 'day'],
      eventTime: undefined,
    });
  });

  it.each([
    [{}, 'TRIBUTARY_TABLE'],
    [{ TRIBUTARY_TABLE: 'a/b' }, 'TRIBUTARY_TABLE'],
    [{ TRIBUTARY_TABLE: 'Visits', TRIBUTARY_PARTITION_BY: 'siteId,,year' }, 'TRIBUTARY_PARTITION_BY'],
    [{ TRIBUTARY_TABLE: 'Visits', TRIBUTARY_EVENT_TIME: '{oops' }, 'TRIBUTARY_EVENT_TIME'],
    [{ TRIBUTARY_TABLE: 'Visits', TRIBUTARY_EVENT_TIME: '{"attribute":"x","unit":"days"}' }, 'TRIBUTARY_EVENT_TIME'],
  ])('rejects %j naming %s', (env, field) => {
    try {
      loadFirehoseTransformConfig(env);
      expect.fail('accepted');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).field).toContain(field);
    }
  });
});

describe('transformFirehoseRecords', () => {
  const table = { name: 'Visits', pipe: { partitionBy: ['siteId', 'year', 'month', 'day'] } };

  it('Ok records carry the NDJSON line with a newline and sanitised partition keys', () => {
    const input = [
      { recordId: 'r1', approximateArrivalTimestamp: 0, data: encode(streamRecord()) },
      {
        recordId: 'r2',
        approximateArrivalTimestamp: 0,
        data: encode(
          streamRecord({
            dynamodb: { NewImage: { siteId: { S: '../x' }, big: { N: '12345678901234567890123456789012345678' } } },
          }),
        ),
      },
    ];
    const { records, failures } = transformFirehoseRecords(input, table);
    expect(failures).toEqual([]);
    expect(records[0]).toMatchObject({
      recordId: 'r1',
      result: 'Ok',
      metadata: { partitionKeys: { siteId: '2', year: '2023', month: '11', day: '15' } },
    });
    const line = decode(records[0]?.data);
    expect(line.endsWith('}\n')).toBe(true);
    expect(JSON.parse(line)).toMatchObject({ op: 'c', table: 'Visits', after: { valueOne: 123 } });
    expect(records[1]?.metadata?.partitionKeys.siteId).toBe('%2E%2E%2Fx');
    expect(decode(records[1]?.data)).toContain('"big":12345678901234567890123456789012345678');
  });

  it('bad records are ProcessingFailed with their original data; the rest still succeed', () => {
    const input = [
      { recordId: 'bad-base64-json', approximateArrivalTimestamp: 0, data: encode('{not json') },
      {
        recordId: 'no-site',
        approximateArrivalTimestamp: 0,
        data: encode(streamRecord({ eventID: 'e2', dynamodb: { NewImage: { id: { S: '1' } } } })),
      },
      { recordId: 'ok', approximateArrivalTimestamp: 0, data: encode(streamRecord()) },
    ];
    const { records, failures } = transformFirehoseRecords(input, table);
    expect(records.map((record) => [record.recordId, record.result])).toEqual([
      ['bad-base64-json', 'ProcessingFailed'],
      ['no-site', 'ProcessingFailed'],
      ['ok', 'Ok'],
    ]);
    expect(records[0]?.data).toBe(input[0]?.data);
    expect(failures).toEqual([
      { recordId: 'bad-base64-json', eventId: undefined, errorType: 'InvalidJson', reason: 'data is not base64 JSON' },
      {
        recordId: 'no-site',
        eventId: 'e2',
        errorType: 'MissingPartitionAttribute',
        reason: 'partition attribute siteId is missing',
      },
    ]);
  });
});

describe('firehosePrefix', () => {
  it('builds the dynamic-partitioning prefix for the same columns', () => {
    expect(firehosePrefix('Visits', ['siteId', 'year'])).toBe(
      'changes/Visits/siteId=!{partitionKeyFromLambda:siteId}/year=!{partitionKeyFromLambda:year}/',
    );
    expect(firehosePrefix('Visits')).toBe(
      'changes/Visits/year=!{partitionKeyFromLambda:year}/month=!{partitionKeyFromLambda:month}/day=!{partitionKeyFromLambda:day}/',
    );
  });
});
