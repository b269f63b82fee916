import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PutItemCommand, UpdateContinuousBackupsCommand } from '@aws-sdk/client-dynamodb';
import { ErrorSink } from '../../../src/lake/error-sink.js';
import { PartitionedNdjsonWriter } from '../../../src/lake/partitioned-ndjson-writer.js';
import { STREAM_RETENTION_ENV } from '../../../src/local/dynamodb/index.js';
import { DirectoryObjectStore } from '../../../src/local/object-store/directory-object-store.js';
import { CheckpointStore } from '../../../src/pipes/checkpoint-store.js';
import { DynamoDbStreamSource } from '../../../src/pipes/dynamodb-stream-source.js';
import { GapReportOnly, TableBackfill } from '../../../src/pipes/table-backfill.js';
import type { SourceBatch } from '../../../src/pipes/types.js';
import { createTable, startHarness, type Harness } from '../../integration/dynamodb/harness.js';

const RETENTION_S = 1.5;
const pastRetention = () => new Promise((resolve) => setTimeout(resolve, RETENTION_S * 1000 + 300));

describe('after a repair the shard resumes at its oldest record, as a sequence number', () => {
  let h: Harness;
  beforeAll(async () => {
    process.env[STREAM_RETENTION_ENV] = String(RETENTION_S);
    h = await startHarness();
  });
  afterAll(async () => {
    delete process.env[STREAM_RETENTION_ENV];
    await h.dispose();
  });

  it('so that records trimmed again before the next read are a new gap, never a silent skip', async () => {
    const tableName = await createTable(h.ddb, 'NEW_AND_OLD_IMAGES');
    await h.ddb.send(
      new UpdateContinuousBackupsCommand({
        TableName: tableName,
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      }),
    );
    const put = (pk: string) => h.ddb.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: pk } } }));
    const pipe = 'things-pipe';
    const checkpoints = new CheckpointStore(join(h.dir, 'pipes.sqlite'));
    const source = new DynamoDbStreamSource({ table: tableName, dynamodb: h.ddb, streams: h.streams });
    const read = async () => {
      const batches: SourceBatch[] = [];
      for await (const batch of source.read(checkpoints.reader(pipe), 100)) batches.push(batch);
      return batches;
    };
    const lake = new DirectoryObjectStore(join(h.dir, 'lake'));
    const backfill = new TableBackfill({
      pipe,
      table: { name: tableName },
      snapshot: 'never',
      dynamodb: h.ddb,
      streams: h.streams,
      checkpoints,
      exports: {
        destination: { bucket: 'tributary-backfill', prefix: 'things' },
        store: (bucket) => new DirectoryObjectStore(join(h.dir, 's3', bucket)),
      },
      writer: () => new PartitionedNdjsonWriter({ store: lake, maxBytes: 1024 * 1024 }),
      errors: new ErrorSink({ store: lake, pipeline: pipe }),
      log: () => undefined,
    });

    await put('a');
    const [first] = await read();
    checkpoints.commit(pipe, first!.shardId, first!.lastSequenceNumber, first!.lastRecordTimeMs);
    // Written while the pipe is down, and trimmed before it reads again.
    await put('a2');
    await pastRetention();
    await put('b');
    const gaps = (await read()).flatMap((batch) => (batch.gap ? [batch.gap] : []));
    expect(gaps).toHaveLength(1);
    await backfill.repair(gaps, () => undefined);
    const resumed = checkpoints.positions(pipe)[0]!;
    expect(resumed.seq).toMatch(/^at:\d+$/);

    // The pipe is down again past the retention: b is trimmed before it was read. That is a gap again.
    await pastRetention();
    await put('c');
    const again = await read();
    expect(again.some((batch) => batch.gap !== undefined)).toBe(true);
    checkpoints.close();
  }, 30_000);

  it('a bus pipe, which cannot repair, also resumes at the oldest record by sequence number', async () => {
    const tableName = await createTable(h.ddb, 'NEW_AND_OLD_IMAGES');
    const put = (pk: string) => h.ddb.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: pk } } }));
    const pipe = 'bus-pipe';
    const checkpoints = new CheckpointStore(join(h.dir, 'bus-pipes.sqlite'));
    const source = new DynamoDbStreamSource({ table: tableName, dynamodb: h.ddb, streams: h.streams });
    const read = async () => {
      const batches: SourceBatch[] = [];
      for await (const batch of source.read(checkpoints.reader(pipe), 100)) batches.push(batch);
      return batches;
    };
    const lake = new DirectoryObjectStore(join(h.dir, 'bus-lake'));
    const report = new GapReportOnly({
      pipe,
      table: { name: tableName },
      checkpoints,
      dynamodb: h.ddb,
      streams: h.streams,
      errors: new ErrorSink({ store: lake, pipeline: pipe }),
      log: () => undefined,
    });
    await put('a');
    const [first] = await read();
    checkpoints.commit(pipe, first!.shardId, first!.lastSequenceNumber, first!.lastRecordTimeMs);
    await put('a2');
    await pastRetention();
    await put('b');
    const gaps = (await read()).flatMap((batch) => (batch.gap ? [batch.gap] : []));
    expect(gaps).toHaveLength(1);
    await report.repair(gaps);
    expect(checkpoints.positions(pipe)[0]!.seq).toMatch(/^at:\d+$/);
    await pastRetention();
    await put('c');
    expect((await read()).some((batch) => batch.gap !== undefined)).toBe(true);
    checkpoints.close();
  }, 30_000);
});
