import { describe, expect, it } from 'vitest';
import { compileFilters } from '../../../src/event-pattern/index.js';
import { ErrorSink, PartitionedNdjsonWriter, landChangeBatch } from '../../../src/lake/index.js';
import { streamRecord } from '../change-stream/fixtures.js';
import { MemoryObjectStore } from './memory-store.js';

describe('landChangeBatch', () => {
  it('filters, lands good records partitioned, and sends bad ones to the error location', async () => {
    const store = new MemoryObjectStore();
    const writer = new PartitionedNdjsonWriter({ store, maxBytes: 1 << 20 });
    const errors = new ErrorSink({
      store,
      pipeline: 'changes-Visits',
      clock: { now: () => new Date('2024-01-02T00:00:00Z') },
    });
    const records = [
      streamRecord({ eventID: 'a', dynamodb: { SequenceNumber: '10' } }),
      streamRecord({
        eventID: 'b',
        eventName: 'REMOVE',
        dynamodb: { SequenceNumber: '11', OldImage: { siteId: { S: '2' } } },
      }),
      streamRecord({ eventID: 'c', dynamodb: { SequenceNumber: '12', NewImage: { siteId: { S: '3' } } } }),
      streamRecord({ eventID: 'd', dynamodb: { SequenceNumber: '13', NewImage: { id: { S: 'no-site' } } } }),
    ];
    const result = await landChangeBatch({
      records,
      table: { name: 'Visits', pipe: { partitionBy: ['siteId', 'year', 'month', 'day'] } },
      filters: compileFilters([{ eventName: ['INSERT', 'MODIFY'] }]),
      writer,
      errors,
    });
    expect(result).toMatchObject({ filteredOut: 1, landed: 2, failed: 1, failedEventIds: ['d'] });
    await writer.flush();
    await errors.flush();
    const keys = [...store.objects.keys()].sort();
    expect(keys).toHaveLength(3);
    expect(keys[0]).toMatch(/^_errors\/changes-Visits\/year=2024\/month=01\/day=02\/d-d-[0-9a-f]{12}\.ndjson\.gz$/);
    expect(keys[1]).toMatch(/^changes\/Visits\/siteId=2\/year=2023\/month=11\/day=15\/10-10-/);
    expect(keys[2]).toMatch(/^changes\/Visits\/siteId=3\/year=2023\/month=11\/day=15\/12-12-/);
    expect(JSON.parse(store.lines(keys[0] ?? '')[0] ?? '')).toMatchObject({
      errorType: 'MissingPartitionAttribute',
      eventId: 'd',
    });
  });

  it('a 2 KB partition attribute goes to the error location with the reason; the rest of the batch lands', async () => {
    const store = new MemoryObjectStore();
    const writer = new PartitionedNdjsonWriter({ store, maxBytes: 1 << 20 });
    const errors = new ErrorSink({ store, pipeline: 'changes-Visits', clock: { now: () => new Date('2024-01-02') } });
    const huge = 'S'.repeat(2048);
    const result = await landChangeBatch({
      records: [
        streamRecord({ eventID: 'ok1', dynamodb: { SequenceNumber: '10' } }),
        streamRecord({ eventID: 'poison', dynamodb: { SequenceNumber: '11', NewImage: { siteId: { S: huge } } } }),
        streamRecord({ eventID: 'ok2', dynamodb: { SequenceNumber: '12' } }),
      ],
      table: { name: 'Visits', pipe: { partitionBy: ['siteId'] } },
      writer,
      errors,
    });
    expect(result).toMatchObject({ landed: 2, failed: 1, failedEventIds: ['poison'] });
    await writer.flush();
    await errors.flush();
    const keys = [...store.objects.keys()].sort();
    expect(keys.every((key) => key.length < 300)).toBe(true);
    expect(keys.filter((key) => key.startsWith('changes/'))).toEqual([
      expect.stringMatching(/^changes\/Visits\/siteId=2\/10-12-/),
    ]);
    const [errorKey] = keys.filter((key) => key.startsWith('_errors/changes-Visits/'));
    const entry = JSON.parse(store.lines(errorKey ?? '')[0] ?? '') as Record<string, unknown>;
    expect(entry).toMatchObject({
      errorType: 'InvalidPartitionAttribute',
      eventId: 'poison',
      reason: 'partition attribute siteId: encoded value is 2048 bytes, over the 200-byte limit of a partition value',
    });
  });
});
