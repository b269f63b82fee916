import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ExportTableToPointInTimeCommand,
  ListExportsCommand,
  PutItemCommand,
  UpdateContinuousBackupsCommand,
  UpdateTableCommand,
} from '@aws-sdk/client-dynamodb';
import { ErrorSink } from '../../../src/lake/error-sink.js';
import { PartitionedNdjsonWriter } from '../../../src/lake/partitioned-ndjson-writer.js';
import { DirectoryObjectStore } from '../../../src/local/object-store/directory-object-store.js';
import { CheckpointStore } from '../../../src/pipes/checkpoint-store.js';
import { TableBackfill } from '../../../src/pipes/table-backfill.js';
import { DynamoDbStreamSource } from '../../../src/pipes/dynamodb-stream-source.js';
import type { ObjectStore } from '../../../src/ports/object-store.js';
import { createTable, startHarness, type Harness } from '../../integration/dynamodb/harness.js';

const BUCKET = 'tributary-backfill';

describe('initial snapshot: crash-safe and idempotent (embedded DynamoDB, real SDK)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.dispose();
  });

  it('a restart after a crash during landing lands the same export, then commits the recorded positions', async () => {
    // An existing table without a stream, with items; then the stream is enabled (as `up` does) and a write follows.
    const tableName = await createTable(h.ddb, undefined);
    for (let i = 0; i < 5; i++)
      await h.ddb.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: `p${i}` }, n: { N: String(i) } } }));
    // Enabled later than a CreateTable with a stream would have (the table was made without one).
    await new Promise((resolve) => setTimeout(resolve, 300));
    await h.ddb.send(
      new UpdateTableCommand({
        TableName: tableName,
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
      }),
    );
    await h.ddb.send(
      new UpdateContinuousBackupsCommand({
        TableName: tableName,
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      }),
    );
    await h.ddb.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: 'p0' }, n: { N: '100' } } }));

    const lake = new DirectoryObjectStore(join(h.dir, 'lake'));
    const checkpoints = new CheckpointStore(join(h.dir, 'pipes.sqlite'));
    const lines: string[] = [];
    const backfill = (exportStore: (bucket: string) => ObjectStore) =>
      new TableBackfill({
        pipe: 'legacy-pipe',
        table: { name: tableName },
        snapshot: 'initial',
        dynamodb: h.ddb,
        streams: h.streams,
        checkpoints,
        exports: { destination: { bucket: BUCKET, prefix: 'legacy' }, store: exportStore },
        writer: () => new PartitionedNdjsonWriter({ store: lake, maxBytes: 1024 * 1024 }),
        errors: new ErrorSink({ store: lake, pipeline: 'legacy-pipe' }),
        log: (line) => lines.push(line),
      });
    const real = (bucket: string) => new DirectoryObjectStore(join(h.dir, 's3', bucket));
    // The first process dies while it reads the export back.
    const dying = (bucket: string): ObjectStore => {
      const store = real(bucket);
      return new Proxy(store, {
        get: (target, name, receiver) =>
          name === 'get' || name === 'getStream'
            ? () => Promise.reject(new Error('killed'))
            : (Reflect.get(target, name, receiver) as unknown),
      });
    };
    const renew = () => undefined;
    await expect(backfill(dying).prepare(renew)).rejects.toThrow(/manifest summary .* is not JSON/);
    const pending = checkpoints.pendingBackfill('legacy-pipe');
    expect(pending).toMatchObject({ kind: 'snapshot' });
    // The position recorded before the export: after the one stream record there was.
    expect(pending!.positions).toHaveLength(1);
    expect(pending!.positions[0]!.seq).toMatch(/^\d{21}$/);
    expect(checkpoints.positions('legacy-pipe')).toEqual([]);

    // The restart lands the same export, commits the positions and forgets it.
    await backfill(real).prepare(renew);
    expect(lines.some((line) => /was interrupted before it landed: landing it again/.test(line))).toBe(true);
    expect(checkpoints.pendingBackfill('legacy-pipe')).toBeUndefined();
    expect(checkpoints.positions('legacy-pipe')).toEqual([
      { shard: pending!.positions[0]!.shard, seq: pending!.positions[0]!.seq, sourceTimeMs: expect.any(Number) },
    ]);
    const exports = await h.ddb.send(new ListExportsCommand({}));
    expect(exports.ExportSummaries).toHaveLength(1);
    const exportId = pending!.exportArn.split('/').pop();
    const records: Array<{ op: string; source: { exportId: string } }> = [];
    for await (const { key } of lake.list(`changes/${tableName}/`))
      for (const line of gunzipSync((await lake.get(key))!)
        .toString('utf8')
        .split('\n')
        .filter(Boolean))
        records.push(JSON.parse(line) as { op: string; source: { exportId: string } });
    expect(records).toHaveLength(5);
    expect(records.every((r) => r.op === 'r' && r.source.exportId === exportId)).toBe(true);

    // Once it has a checkpoint, a new process takes no snapshot.
    lines.length = 0;
    await backfill(real).prepare(renew);
    expect(lines).toEqual([]);
    expect((await h.ddb.send(new ListExportsCommand({}))).ExportSummaries).toHaveLength(1);
    checkpoints.close();
  });

  it('an empty shard is recorded as its start, so the first write after the snapshot is streamed', async () => {
    const tableName = await createTable(h.ddb, undefined);
    await h.ddb.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: 'old' }, n: { N: '1' } } }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    await h.ddb.send(
      new UpdateTableCommand({
        TableName: tableName,
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
      }),
    );
    const lake = new DirectoryObjectStore(join(h.dir, 'lake-empty'));
    const checkpoints = new CheckpointStore(join(h.dir, 'pipes-empty.sqlite'));
    const lines: string[] = [];
    await new TableBackfill({
      pipe: 'p',
      table: { name: tableName },
      snapshot: 'initial',
      dynamodb: h.ddb,
      streams: h.streams,
      checkpoints,
      exports: {
        destination: { bucket: BUCKET, prefix: tableName },
        store: (bucket) => new DirectoryObjectStore(join(h.dir, 's3', bucket)),
      },
      writer: () => new PartitionedNdjsonWriter({ store: lake, maxBytes: 1024 * 1024 }),
      errors: new ErrorSink({ store: lake, pipeline: 'p' }),
      log: (line) => lines.push(line),
    }).prepare(() => undefined);
    // Point-in-time recovery was off: the snapshot turned it on and said so.
    expect(lines.some((line) => /enabled point-in-time recovery on/.test(line))).toBe(true);
    const [position] = checkpoints.positions('p');
    expect(position?.seq).toMatch(/^at:\d{21}$/);

    await h.ddb.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: 'new' }, n: { N: '2' } } }));
    const source = new DynamoDbStreamSource({ table: tableName, dynamodb: h.ddb, streams: h.streams });
    const read: string[] = [];
    for await (const batch of source.read(checkpoints.reader('p'), 10))
      for (const r of batch.records) read.push((r.dynamodb!.Keys as { pk: { S: string } }).pk.S);
    expect(read).toEqual(['new']);
    checkpoints.close();
  });

  it('a repair a crash interrupted is landed on restart and reported as a gap (so sync still exits 4)', async () => {
    const tableName = await createTable(h.ddb, 'NEW_AND_OLD_IMAGES');
    await h.ddb.send(
      new UpdateContinuousBackupsCommand({
        TableName: tableName,
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      }),
    );
    const from = Math.floor(Date.now() / 1000) * 1000 + 1000;
    await new Promise((resolve) => setTimeout(resolve, from - Date.now() + 20));
    await h.ddb.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: 'x' }, n: { N: '1' } } }));
    const to = Math.floor(Date.now() / 1000) * 1000 + 1000;
    await new Promise((resolve) => setTimeout(resolve, to - Date.now() + 20));
    const started = await h.ddb.send(
      new ExportTableToPointInTimeCommand({
        TableArn: `arn:aws:dynamodb:us-east-1:000000000000:table/${tableName}`,
        S3Bucket: BUCKET,
        S3Prefix: tableName,
        ExportType: 'INCREMENTAL_EXPORT',
        IncrementalExportSpecification: { ExportFromTime: new Date(from), ExportToTime: new Date(to) },
      }),
    );
    const exportArn = started.ExportDescription!.ExportArn!;
    const checkpoints = new CheckpointStore(join(h.dir, 'pipes-repair.sqlite'));
    checkpoints.commit('p', 'shard-1', '100000000000000000001', from);
    checkpoints.savePendingBackfill('p', {
      kind: 'repair',
      exportArn,
      positions: [{ shard: 'shard-1', seq: 'trim-horizon', sourceTimeMs: to }],
    });
    const lake = new DirectoryObjectStore(join(h.dir, 'lake-repair'));
    const reports = await new TableBackfill({
      pipe: 'p',
      table: { name: tableName },
      snapshot: 'initial',
      dynamodb: h.ddb,
      streams: h.streams,
      checkpoints,
      exports: {
        destination: { bucket: BUCKET, prefix: tableName },
        store: (bucket) => new DirectoryObjectStore(join(h.dir, 's3', bucket)),
      },
      writer: () => new PartitionedNdjsonWriter({ store: lake, maxBytes: 1024 * 1024 }),
      errors: new ErrorSink({ store: lake, pipeline: 'p' }),
      log: () => undefined,
    }).prepare(() => undefined);
    expect(reports).toEqual([
      {
        shardId: 'shard-1',
        position: undefined,
        repair: 'incremental',
        exportId: exportArn.split('/').pop(),
        records: 1,
      },
    ]);
    expect(checkpoints.positions('p')).toEqual([{ shard: 'shard-1', seq: 'trim-horizon', sourceTimeMs: to }]);
    expect(checkpoints.pendingBackfill('p')).toBeUndefined();
    checkpoints.close();
  });

  it('a pending export that can never complete (gone or FAILED) is dropped, and the next poll starts over', async () => {
    const tableName = await createTable(h.ddb, 'NEW_AND_OLD_IMAGES');
    await h.ddb.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: 'p' } } }));
    const lake = new DirectoryObjectStore(join(h.dir, 'lake-gone'));
    const checkpoints = new CheckpointStore(join(h.dir, 'pipes-gone.sqlite'));
    const tableArn = `arn:aws:dynamodb:us-east-1:000000000000:table/${tableName}`;
    // As left by a crash after the export started, when the DynamoDB state (and so the export) was reset since.
    checkpoints.savePendingBackfill('gone-pipe', {
      kind: 'snapshot',
      exportArn: `${tableArn}/export/00000000000000-deadbeef`,
      positions: [],
    });
    const lines: string[] = [];
    const backfill = new TableBackfill({
      pipe: 'gone-pipe',
      table: { name: tableName },
      snapshot: 'initial',
      dynamodb: h.ddb,
      streams: h.streams,
      checkpoints,
      exports: {
        destination: { bucket: BUCKET, prefix: 'gone' },
        store: (bucket) => new DirectoryObjectStore(join(h.dir, 's3', bucket)),
      },
      writer: () => new PartitionedNdjsonWriter({ store: lake, maxBytes: 1024 * 1024 }),
      errors: new ErrorSink({ store: lake, pipeline: 'gone-pipe' }),
      log: (line) => lines.push(line),
    });
    await expect(backfill.prepare(() => undefined)).rejects.toThrow(/no longer exists/);
    expect(checkpoints.pendingBackfill('gone-pipe')).toBeUndefined();
    expect(lines.join('\n')).toMatch(/no longer exists: dropped; the next poll starts it again/);
    checkpoints.close();
  });
});
