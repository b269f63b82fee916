import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BackendResult, DynaliteBackend } from '../../../src/local/dynamodb/dynalite-backend.js';
import { KeyedMutex } from '../../../src/local/dynamodb/keyed-mutex.js';
import type { ProxyContext } from '../../../src/local/dynamodb/proxy-context.js';
import { StreamStore } from '../../../src/local/dynamodb/stream-store.js';
import type { StreamInfo, WireItem, WriteIntent } from '../../../src/local/dynamodb/types.js';
import { WriteIntents, recordOfIntent, recoverPendingWrites } from '../../../src/local/dynamodb/write-intents.js';

const keySchema = [{ AttributeName: 'pk', KeyType: 'HASH' as const }];
const item = (pk: string, v: number): WireItem => ({ pk: { S: pk }, v: { N: String(v) } });
const key = (pk: string): WireItem => ({ pk: { S: pk } });

/** A stand-in for dynalite's GetItem: items per table; a missing table answers ResourceNotFound. */
class FakeItems {
  public readonly tables = new Map<string, Map<string, WireItem>>();
  public unreadable = new Set<string>();

  public backend(): DynaliteBackend {
    return {
      call: async (operation: string, input: { TableName: string; Key: WireItem }): Promise<BackendResult<unknown>> => {
        if (operation !== 'GetItem') throw new Error(`unexpected ${operation}`);
        const pk = String(input.Key['pk']?.['S']);
        if (this.unreadable.has(pk)) return { statusCode: 500, body: { __type: 'x#InternalServerError' } };
        const table = this.tables.get(input.TableName);
        if (!table) return { statusCode: 400, body: { __type: 'x#ResourceNotFoundException' } };
        const found = table.get(pk);
        return { statusCode: 200, body: found ? { Item: found } : {} };
      },
    } as unknown as DynaliteBackend;
  }
}

describe('write-ahead intents', () => {
  let dir: string;
  let store: StreamStore;
  let items: FakeItems;
  let context: ProxyContext;
  let stream: StreamInfo;
  const notified: string[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tributary-intents-'));
    store = new StreamStore(join(dir, 'streams.sqlite'));
    items = new FakeItems();
    items.tables.set('t', new Map());
    notified.length = 0;
    context = {
      backend: items.backend(),
      store,
      tableLocks: new KeyedMutex(),
      region: 'us-east-1',
      accountId: '000000000000',
      notify: (tableName) => notified.push(tableName),
    };
    stream = store.createStream({
      tableName: 't',
      tableId: 'id-1',
      viewType: 'NEW_AND_OLD_IMAGES',
      keySchema,
      region: 'us-east-1',
      accountId: '000000000000',
    });
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const images = () =>
    store.readAfter(stream.streamArn, 0n, 100).map(({ record }) => ({
      eventName: record.eventName,
      old: record.dynamodb.OldImage,
      new: record.dynamodb.NewImage,
    }));

  describe('recordOfIntent', () => {
    const intent = (oldImage: WireItem | undefined): WriteIntent => ({
      id: 1n,
      streamArn: 'arn',
      key: key('a'),
      oldImage,
      createdMs: Date.UTC(2026, 0, 2, 3, 4, 5),
    });

    it('is no record when the item still equals the old image (write failed or not applied), whatever the attribute order', () => {
      expect(recordOfIntent(stream, intent(item('a', 1)), { v: { N: '1' }, pk: { S: 'a' } }, 'us-east-1')).toBe(
        undefined,
      );
      expect(recordOfIntent(stream, intent(undefined), undefined, 'us-east-1')).toBeUndefined();
    });

    it('is INSERT, MODIFY or REMOVE from the old image to the item now, at the time the write started', () => {
      const modify = recordOfIntent(stream, intent(item('a', 1)), item('a', 2), 'us-east-1');
      expect(modify?.eventName).toBe('MODIFY');
      expect(modify?.dynamodb).toMatchObject({
        OldImage: item('a', 1),
        NewImage: item('a', 2),
        Keys: key('a'),
        ApproximateCreationDateTime: Date.UTC(2026, 0, 2, 3, 4, 5) / 1000,
      });
      expect(recordOfIntent(stream, intent(undefined), item('a', 1), 'us-east-1')?.eventName).toBe('INSERT');
      expect(recordOfIntent(stream, intent(item('a', 1)), undefined, 'us-east-1')?.eventName).toBe('REMOVE');
    });
  });

  it('survive a restart of the store, and settle appends the records and deletes the intents together', async () => {
    const intents = new WriteIntents(context);
    intents.begin([{ stream, key: key('a'), oldImage: undefined }]);
    store.close();
    store = new StreamStore(join(dir, 'streams.sqlite'));
    context.store = store;
    expect(store.pendingIntents()).toMatchObject([{ streamArn: stream.streamArn, key: key('a') }]);

    items.tables.get('t')?.set('a', item('a', 1));
    await new WriteIntents(context).settle(store.pendingIntents().map((intent) => ({ intent, stream })));
    expect(store.pendingIntents()).toEqual([]);
    expect(images()).toEqual([{ eventName: 'INSERT', old: undefined, new: item('a', 1) }]);
    expect(notified).toEqual(['t']);
  });

  it('an item that cannot be read keeps its intent; the next write of the item starts from its old image', async () => {
    const intents = new WriteIntents(context);
    items.tables.get('t')?.set('a', item('a', 1));
    const first = intents.begin([{ stream, key: key('a'), oldImage: item('a', 1) }]);
    items.tables.get('t')?.set('a', item('a', 2));
    items.unreadable.add('a');
    await intents.settle(first);
    expect(store.pendingIntents()).toHaveLength(1);
    expect(images()).toEqual([]);

    // The next write reads v=2 as its old image, but v=2 was never streamed: the record must go from v=1.
    items.unreadable.clear();
    const second = intents.begin([{ stream, key: key('a'), oldImage: item('a', 2) }]);
    expect(second[0]?.intent.oldImage).toEqual(item('a', 1));
    items.tables.get('t')?.set('a', item('a', 3));
    await intents.settle(second);
    expect(store.pendingIntents()).toEqual([]);
    expect(images()).toEqual([{ eventName: 'MODIFY', old: item('a', 1), new: item('a', 3) }]);
  });

  it('recovery settles pending intents oldest first: appended, unchanged, dropped (stream or table gone), kept (unreadable)', async () => {
    const intents = new WriteIntents(context);
    const gone = store.createStream({
      tableName: 'gone',
      tableId: 'id-2',
      viewType: 'NEW_IMAGE',
      keySchema,
      region: 'us-east-1',
      accountId: '000000000000',
    });
    const disabled = store.createStream({
      tableName: 'off',
      tableId: 'id-3',
      viewType: 'NEW_IMAGE',
      keySchema,
      region: 'us-east-1',
      accountId: '000000000000',
    });
    items.tables.set('off', new Map([['d', item('d', 9)]]));
    intents.begin([{ stream, key: key('b'), oldImage: undefined }], 1_000);
    intents.begin([{ stream, key: key('a'), oldImage: item('a', 1) }], 2_000);
    intents.begin([{ stream, key: key('same'), oldImage: item('same', 1) }], 3_000);
    intents.begin([{ stream: gone, key: key('g'), oldImage: undefined }], 4_000);
    intents.begin([{ stream: disabled, key: key('d'), oldImage: undefined }], 5_000);
    intents.begin([{ stream, key: key('u'), oldImage: undefined }], 6_000);
    store.disableStream(disabled.streamArn);
    const t = items.tables.get('t');
    t?.set('b', item('b', 1));
    t?.set('a', item('a', 2));
    t?.set('same', item('same', 1));
    t?.set('u', item('u', 1));
    items.unreadable.add('u');

    expect(await recoverPendingWrites(context)).toEqual({ appended: 2, unchanged: 1, dropped: 2, kept: 1 });
    expect(images()).toEqual([
      { eventName: 'INSERT', old: undefined, new: item('b', 1) },
      { eventName: 'MODIFY', old: item('a', 1), new: item('a', 2) },
    ]);
    expect(store.readAfter(stream.streamArn, 0n, 10).map((r) => r.record.dynamodb.ApproximateCreationDateTime)).toEqual(
      [1, 2],
    );
    expect(store.pendingIntents()).toMatchObject([{ key: key('u') }]);
  });
});
