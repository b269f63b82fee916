import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DescribeExportCommand,
  ExportTableToPointInTimeCommand,
  PutItemCommand,
  UpdateContinuousBackupsCommand,
} from '@aws-sdk/client-dynamodb';
import { landCompletedExport } from '../../../src/backfill/table-exports.js';
import { changeRecordsForBatch } from '../../../src/change-stream/process-batch.js';
import { materialiseCurrentState } from '../../../src/lake/current-state.js';
import { ErrorSink } from '../../../src/lake/error-sink.js';
import { landProcessedChanges } from '../../../src/lake/land-change-batch.js';
import { PartitionedNdjsonWriter } from '../../../src/lake/partitioned-ndjson-writer.js';
import { DirectoryObjectStore } from '../../../src/local/object-store/directory-object-store.js';
import { LakeQuery } from '../../../src/query/lake-query.js';
import { createTable, startHarness, type Harness } from '../dynamodb/harness.js';

const BUCKET = 'vanished';

/** A stream record of `pk` at `seconds` (epoch), as the stream would have delivered it. */
function streamRecord(pk: string, seconds: number, seq: number, eventName: 'INSERT' | 'MODIFY' = 'INSERT') {
  return {
    eventID: `e-${pk}-${seq}`,
    eventName,
    dynamodb: {
      Keys: { pk: { S: pk } },
      NewImage: { pk: { S: pk }, v: { N: String(seq) } },
      SequenceNumber: String(1000 + seq),
      ApproximateCreationDateTime: seconds,
    },
  };
}

describe('FULL snapshot: keys the lake holds that the table no longer has get delete records', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.dispose();
  });

  it('lands d records for keys gone before the snapshot, keeps keys changed after it; current equals the table', async () => {
    const tableName = await createTable(h.ddb, 'NEW_AND_OLD_IMAGES');
    await h.ddb.send(
      new UpdateContinuousBackupsCommand({
        TableName: tableName,
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      }),
    );
    for (const pk of ['a', 'b'])
      await h.ddb.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: pk }, v: { N: '7' } } }));
    await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 5));
    const exportSecond = Math.floor(Date.now() / 1000);
    const started = await h.ddb.send(
      new ExportTableToPointInTimeCommand({
        TableArn: `arn:aws:dynamodb:us-east-1:000000000000:table/${tableName}`,
        S3Bucket: BUCKET,
        ExportTime: new Date(exportSecond * 1000),
      }),
    );
    const description = (
      await h.ddb.send(new DescribeExportCommand({ ExportArn: started.ExportDescription!.ExportArn }))
    ).ExportDescription!;

    // What the lake already held: a, b and c from the stream an hour ago (c's delete was trimmed), and x, written a
    // second after the snapshot (the snapshot cannot hold it; it is not gone).
    const lake = new DirectoryObjectStore(join(h.dir, 'lake'));
    const table = { name: 'things' };
    const writer = () => new PartitionedNdjsonWriter({ store: lake, maxBytes: 1024 * 1024 });
    const errors = new ErrorSink({ store: lake, pipeline: 'things-pipe' });
    const earlier = exportSecond - 3600;
    const before = changeRecordsForBatch(
      [
        streamRecord('a', earlier, 1),
        streamRecord('b', earlier, 2),
        streamRecord('c', earlier, 3),
        streamRecord('x', exportSecond + 1, 4),
      ],
      table,
    );
    const streamWriter = writer();
    await landProcessedChanges({ result: before, table, writer: streamWriter, errors });
    await streamWriter.flush();

    const landed = await landCompletedExport(description, {
      exportStore: (bucket) => new DirectoryObjectStore(join(h.dir, 's3', bucket)),
      keyAttributes: ['pk'],
      table,
      writer: writer(),
      errors,
      lake,
    });
    expect(landed.records).toBe(2);
    expect(landed.vanished).toEqual({ deleted: 1, failed: 0 });

    const lines: Array<Record<string, unknown>> = [];
    for await (const { key } of lake.list('changes/things/'))
      for (const line of gunzipSync((await lake.get(key))!)
        .toString('utf8')
        .split('\n')
        .filter(Boolean))
        lines.push(JSON.parse(line) as Record<string, unknown>);
    const deletes = lines.filter((line) => line['op'] === 'd');
    expect(deletes).toHaveLength(1);
    expect(deletes[0]).toMatchObject({
      keys: { pk: 'c' },
      before: { pk: 'c', v: 3 },
      after: null,
      seq: null,
      ts: new Date(exportSecond * 1000).toISOString(),
      source: { kind: 'snapshot', exportId: landed.exportId },
    });

    // Landing the same export again adds nothing: the delete's id (and file) is the same.
    const again = await landCompletedExport(description, {
      exportStore: (bucket) => new DirectoryObjectStore(join(h.dir, 's3', bucket)),
      keyAttributes: ['pk'],
      table,
      writer: writer(),
      errors,
      lake,
    });
    expect(again.vanished).toEqual({ deleted: 0, failed: 0 });

    await materialiseCurrentState({ store: lake, table: 'things' });
    const query = await LakeQuery.open(join(h.dir, 'lake'));
    try {
      const { rows } = await query.run(`SELECT keys->>'pk' AS pk FROM current_things ORDER BY 1`);
      expect(rows.map((row) => row['pk'])).toEqual(['a', 'b', 'x']);
    } finally {
      await query.close();
    }
  });

  it('checks no key when some snapshot lines were rejected: an item the lake did not get must not look deleted', async () => {
    const tableName = await createTable(h.ddb, 'NEW_AND_OLD_IMAGES');
    await h.ddb.send(
      new UpdateContinuousBackupsCommand({
        TableName: tableName,
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      }),
    );
    // k lost its partition attribute: its snapshot line is rejected.
    await h.ddb.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: 'k' }, v: { N: '1' } } }));
    await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 5));
    const exportSecond = Math.floor(Date.now() / 1000);
    const started = await h.ddb.send(
      new ExportTableToPointInTimeCommand({
        TableArn: `arn:aws:dynamodb:us-east-1:000000000000:table/${tableName}`,
        S3Bucket: BUCKET,
        ExportTime: new Date(exportSecond * 1000),
      }),
    );
    const description = (
      await h.ddb.send(new DescribeExportCommand({ ExportArn: started.ExportDescription!.ExportArn }))
    ).ExportDescription!;
    const lake = new DirectoryObjectStore(join(h.dir, 'lake-rejected'));
    const table = { name: 'sited', pipe: { partitionBy: ['site'] } };
    const errors = new ErrorSink({ store: lake, pipeline: 'sited-pipe' });
    const old = streamRecord('k', exportSecond - 3600, 1);
    old.dynamodb.NewImage = { ...old.dynamodb.NewImage, site: { S: 'north' } } as typeof old.dynamodb.NewImage;
    const streamWriter = new PartitionedNdjsonWriter({ store: lake, maxBytes: 1024 * 1024 });
    await landProcessedChanges({ result: changeRecordsForBatch([old], table), table, writer: streamWriter, errors });
    await streamWriter.flush();

    const landed = await landCompletedExport(description, {
      exportStore: (bucket) => new DirectoryObjectStore(join(h.dir, 's3', bucket)),
      keyAttributes: ['pk'],
      table,
      writer: new PartitionedNdjsonWriter({ store: lake, maxBytes: 1024 * 1024 }),
      errors,
      lake,
    });
    expect(landed.failed).toBe(1);
    expect(landed.vanished).toEqual({ deleted: 0, failed: 0, skipped: '1 export line(s) rejected' });
  });
});
