import { describe, expect, it } from 'vitest';
import { LosslessNumber } from 'lossless-json';
import { ErrorSink } from '../../../src/lake/index.js';
import { MemoryObjectStore } from './memory-store.js';

const clock = { now: () => new Date('2024-03-05T23:59:59.999Z') };

describe('ErrorSink', () => {
  it('writes {reason, errorType, eventId, source, record} under _errors/<pipeline>/year=/month=/day=/', async () => {
    const store = new MemoryObjectStore();
    const sink = new ErrorSink({ store, pipeline: 'changes-Visits', clock });
    const record = { eventID: 'e1', dynamodb: { NewImage: { name: { S: 'Jane' }, n: { N: '1' } } } };
    await sink.add({
      reason: 'partition attribute siteId is missing',
      errorType: 'MissingPartitionAttribute',
      eventId: 'e1',
      record,
    });
    await sink.add({
      reason: 'not JSON',
      errorType: 'InvalidJson',
      source: { file: 'exports/Patient-1.ndjson', line: 7 },
      record: { raw: '{oops', exact: new LosslessNumber('12345678901234567890') },
    });
    const [file] = await sink.flush();
    expect(file?.key).toMatch(
      /^_errors\/changes-Visits\/year=2024\/month=03\/day=05\/e1-exports%2FPatient-1%2Endjson%3A7-[0-9a-f]{12}\.ndjson\.gz$/,
    );
    const lines = store.lines(file?.key ?? '');
    expect(JSON.parse(lines[0] ?? '')).toEqual({
      reason: 'partition attribute siteId is missing',
      errorType: 'MissingPartitionAttribute',
      eventId: 'e1',
      record,
    });
    expect(lines[1]).toBe(
      '{"reason":"not JSON","errorType":"InvalidJson","source":{"file":"exports/Patient-1.ndjson","line":7},"record":{"raw":"{oops","exact":12345678901234567890}}',
    );
    expect(sink.stats.records).toBe(2);
  });

  it('is deterministic: the same rejected records land on the same key', async () => {
    const store = new MemoryObjectStore();
    const entry = { reason: 'r', errorType: 'T', record: { a: 1 } };
    for (let attempt = 0; attempt < 2; attempt++) {
      const sink = new ErrorSink({ store, pipeline: 'p', clock });
      await sink.add(entry);
      await sink.close();
    }
    expect(new Set(store.puts).size).toBe(1);
    expect(store.puts).toHaveLength(2);
  });

  it('sanitises the pipeline name', async () => {
    const store = new MemoryObjectStore();
    const sink = new ErrorSink({ store, pipeline: '../evil', clock });
    await sink.add({ reason: 'r', errorType: 'T', eventId: 'x', record: null });
    const [file] = await sink.flush();
    expect(file?.key.startsWith('_errors/%2E%2E%2Fevil/year=2024/')).toBe(true);
  });

  it('a retried batch does not add the same entry twice, counts entries per type, and add never loses an entry', async () => {
    const store = new MemoryObjectStore();
    const sink = new ErrorSink({ store, pipeline: 'p', clock, maxBytes: 10 }); // every entry is written at once
    const entry = { reason: 'r', errorType: 'DeliveryFailed', eventId: 'e1', record: { eventID: 'e1' } };
    store.failNextPut = true;
    await expect(sink.add(entry)).resolves.toEqual([]); // the write failed, the entry is kept
    await sink.add(entry); // the same record again, as when its batch is retried
    await sink.add({ ...entry, errorType: 'InvalidPartitionAttribute', eventId: 'e2' });
    expect(Object.fromEntries(sink.addedByType)).toEqual({ DeliveryFailed: 1, InvalidPartitionAttribute: 1 });
    expect(sink.location).toBe('_errors/p/');
    await sink.flush();
    const ids = [...store.objects.keys()].flatMap((key) => store.lines(key).map((l) => JSON.parse(l).eventId));
    expect(ids.sort()).toEqual(['e1', 'e2']);
  });
});
