import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { updateCurrentOnObjectCreated } from '../../../src/lake/current-on-object-created.js';
import type { ObjectBody, ObjectInfo, ObjectStore } from '../../../src/ports/object-store.js';
import { ObjectNotFoundError } from '../../../src/ports/object-store.js';

/** An in-memory lake that accepts streamed bodies (the writer puts its Parquet as a file stream). */
class StreamingMemoryStore implements ObjectStore {
  public readonly url = 'memory://lake';
  public readonly objects = new Map<string, Buffer>();
  public readonly puts: string[] = [];
  public readonly lists: string[] = [];

  public async put(key: string, body: ObjectBody): Promise<void> {
    const chunks: Buffer[] = [];
    if (typeof body === 'string' || body instanceof Uint8Array) chunks.push(Buffer.from(body));
    else for await (const chunk of body) chunks.push(Buffer.from(chunk as Uint8Array));
    this.puts.push(key);
    this.objects.set(key, Buffer.concat(chunks));
  }
  public async get(key: string): Promise<Uint8Array | undefined> {
    return this.objects.get(key);
  }
  public async getStream(key: string): Promise<Readable> {
    const body = this.objects.get(key);
    if (!body) throw new ObjectNotFoundError(key);
    return Readable.from([body]);
  }
  public async *list(prefix: string): AsyncIterable<ObjectInfo> {
    this.lists.push(prefix);
    for (const key of [...this.objects.keys()].sort())
      if (key.startsWith(prefix)) yield { key, size: this.objects.get(key)!.length };
  }
  public async delete(key: string): Promise<void> {
    this.objects.delete(key);
  }
}

const changeFile = (records: object[]) => gzipSync(records.map((record) => JSON.stringify(record)).join('\n') + '\n');
const record = (id: string, seq: string, op: 'c' | 'u' | 'd', n: number) => ({
  op,
  table: 'visits',
  keys: { id },
  before: null,
  after: op === 'd' ? null : { id, n },
  eventId: `e-${seq}`,
  seq,
  ts: '2024-03-01T10:00:00Z',
});
const objectCreated = (key: string, source = 'aws.s3') => ({
  source,
  'detail-type': 'Object Created',
  detail: { bucket: { name: 'tributary-lake' }, object: { key, size: 1 }, reason: 'PutObject' },
});

const CHANGE = 'changes/visits/siteId=s1/year=2024/month=03/day=01/visits-1-2024-03-01-10-00-00-ab.ndjson.gz';
const CURRENT = 'current/visits/siteId=s1/year=2024/month=03/day=01/visits-1-2024-03-01-10-00-00-ab.parquet';

describe('updateCurrentOnObjectCreated (current/<table>/ on AWS, from S3 events)', () => {
  it('writes the Parquet delta of the change file the event names, the latest record per key, without listing the table', async () => {
    const store = new StreamingMemoryStore();
    store.objects.set(
      CHANGE,
      changeFile([record('a', '100', 'c', 1), record('a', '200', 'u', 2), record('b', '150', 'c', 3)]),
    );
    store.objects.set('changes/visits/siteId=s1/year=2024/month=03/day=01/older.ndjson.gz', changeFile([]));

    const result = await updateCurrentOnObjectCreated(objectCreated(CHANGE), { store });

    expect(result).toEqual({ key: CHANGE, table: 'visits', update: { table: 'visits', files: 1, keys: 2 } });
    expect(store.puts).toEqual([CURRENT]);
    expect(store.objects.get(CURRENT)?.subarray(0, 4).toString()).toBe('PAR1');
    // O(new files): only the delta's own key is looked up, never changes/visits/ or current/visits/.
    expect(store.lists).toEqual([CURRENT]);

    // A replay (EventBridge retry) finds the delta and writes nothing.
    const again = await updateCurrentOnObjectCreated(objectCreated(CHANGE), { store });
    expect(again).toMatchObject({ table: 'visits', skipped: 'delta exists', update: { files: 0 } });
    expect(store.puts).toEqual([CURRENT]);
  });

  it('strips the lake prefix of the bucket key', async () => {
    const store = new StreamingMemoryStore();
    store.objects.set(CHANGE, changeFile([record('a', '1', 'd', 0)]));
    const result = await updateCurrentOnObjectCreated(objectCreated(`lake/${CHANGE}`), { store, prefix: 'lake/' });
    expect(result).toMatchObject({ key: CHANGE, update: { files: 1, keys: 1 } });
    expect(store.puts).toEqual([CURRENT]);
  });

  it('ignores other prefixes, other files and other events', async () => {
    const store = new StreamingMemoryStore();
    for (const key of [
      'fhir/Patient/year=2024/month=03/day=01/x.ndjson.gz',
      'current/visits/year=2024/x.parquet',
      '_errors/changes-visits/x.ndjson.gz',
      'views/patient/run=1/patient.parquet',
      'changes/visits/year=2024/manifest.json',
    ]) {
      store.objects.set(key, changeFile([record('a', '1', 'c', 1)]));
      expect(await updateCurrentOnObjectCreated(objectCreated(key), { store })).toMatchObject({
        skipped: 'not a change file',
      });
    }
    expect(await updateCurrentOnObjectCreated(objectCreated(CHANGE, 'aws.states'), { store })).toEqual({
      skipped: 'not an S3 Object Created event',
    });
    expect(await updateCurrentOnObjectCreated(objectCreated(CHANGE), { store, prefix: 'other/' })).toEqual({
      skipped: 'outside the lake prefix',
    });
    expect(store.puts).toEqual([]);
  });
});
