import { describe, expect, it } from 'vitest';
import { changeRecordsForBatch } from '../../../src/change-stream/index.js';
import { streamRecord } from './fixtures.js';

describe('changeRecordsForBatch', () => {
  const table = { name: 'Visits', pipe: { partitionBy: ['siteId', 'year', 'month', 'day'] } };

  it('returns records, partitions and lines in order; bad records never fail the batch', () => {
    const good1 = streamRecord({ eventID: 'e1', dynamodb: { SequenceNumber: '1' } });
    const noSite = streamRecord({
      eventID: 'e2',
      dynamodb: { SequenceNumber: '2', NewImage: { id: { S: '9' }, name: { S: 'Secret Name' } } },
    });
    const badNumber = streamRecord({
      eventID: 'e3',
      dynamodb: { SequenceNumber: '3', NewImage: { siteId: { S: '2' }, age: { N: 'Secret Name' } } },
    });
    const good2 = streamRecord({ eventID: 'e4', eventName: 'MODIFY', dynamodb: { SequenceNumber: '4' } });
    const { ok, failed } = changeRecordsForBatch([good1, noSite, 'garbage', badNumber, good2], table);

    expect(ok.map((change) => change.record.eventId)).toEqual(['e1', 'e4']);
    expect(ok[0]?.partitions).toEqual([
      ['siteId', '2'],
      ['year', '2023'],
      ['month', '11'],
      ['day', '15'],
    ]);
    expect(ok[0]?.line).toContain('"valueOne":123');
    expect(ok[0]?.eventTime.toISOString()).toBe(ok[0]?.record.ts);

    expect(failed.map(({ eventId, errorType, reason }) => ({ eventId, errorType, reason }))).toEqual([
      { eventId: 'e2', errorType: 'MissingPartitionAttribute', reason: 'partition attribute siteId is missing' },
      { eventId: undefined, errorType: 'InvalidStreamRecord', reason: 'a stream record must be a JSON object' },
      { eventId: 'e3', errorType: 'InvalidAttributeValue', reason: 'attribute age: N is not a number' },
    ]);
    expect(failed[0]?.raw).toBe(noSite);
    // reasons never carry values
    expect(JSON.stringify(failed.map((failure) => failure.reason))).not.toContain('Secret');
  });

  it('uses the default partitioning and the configured event time', () => {
    const { ok } = changeRecordsForBatch([streamRecord()], {
      name: 'Visits',
      pipe: { eventTime: { attribute: 'createdAtTime', unit: 'ms' } },
    });
    expect(ok[0]?.record.ts).toBe('2023-11-15T19:29:11.926Z');
    expect(ok[0]?.partitions.map(([name]) => name)).toEqual(['year', 'month', 'day']);
  });

  it('reports unexpected errors by class name only', () => {
    const hostile = {
      eventID: 'e9',
      eventName: 'INSERT',
      get dynamodb(): never {
        throw new TypeError('Secret Name');
      },
    };
    const { failed } = changeRecordsForBatch([hostile], { name: 'T' });
    expect(failed[0]).toMatchObject({ eventId: 'e9', errorType: 'UnexpectedError', reason: 'unexpected TypeError' });
  });
});
