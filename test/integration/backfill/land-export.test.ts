import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DeleteItemCommand,
  DescribeExportCommand,
  ExportTableToPointInTimeCommand,
  PutItemCommand,
  UpdateContinuousBackupsCommand,
} from '@aws-sdk/client-dynamodb';
import { landExport } from '../../../src/backfill/index.js';
import { ErrorSink } from '../../../src/lake/error-sink.js';
import { PartitionedNdjsonWriter } from '../../../src/lake/partitioned-ndjson-writer.js';
import { DirectoryObjectStore } from '../../../src/local/object-store/directory-object-store.js';
import { createTable, startHarness, type Harness } from '../dynamodb/harness.js';

const BUCKET = 'backfill-exports';

async function exportTable(h: Harness, tableName: string, input: Record<string, unknown> = {}) {
  const started = await h.ddb.send(
    new ExportTableToPointInTimeCommand({
      TableArn: `arn:aws:dynamodb:us-east-1:000000000000:table/${tableName}`,
      S3Bucket: BUCKET,
      S3Prefix: 'exports',
      ExportFormat: 'DYNAMODB_JSON',
      ...input,
    }),
  );
  const described = await h.ddb.send(new DescribeExportCommand({ ExportArn: started.ExportDescription!.ExportArn }));
  expect(described.ExportDescription?.ExportStatus).toBe('COMPLETED');
  return described.ExportDescription!;
}

async function lakeLines(lake: DirectoryObjectStore, prefix: string): Promise<Array<Record<string, unknown>>> {
  const lines: Array<Record<string, unknown>> = [];
  for await (const { key } of lake.list(prefix)) {
    const text = gunzipSync((await lake.get(key))!).toString('utf8');
    for (const line of text.split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
  }
  return lines;
}

describe('landExport: a DynamoDB export (embedded, real SDK) into the lake', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.dispose();
  });

  it('lands a FULL export as r records in the table partitions, deterministically', async () => {
    const tableName = await createTable(h.ddb, 'NEW_AND_OLD_IMAGES', { rangeKey: true });
    await h.ddb.send(
      new UpdateContinuousBackupsCommand({
        TableName: tableName,
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      }),
    );
    for (let i = 0; i < 25; i++)
      await h.ddb.send(
        new PutItemCommand({
          TableName: tableName,
          Item: {
            pk: { S: `p-${i % 5}` },
            sk: { N: String(i) },
            siteId: { S: i % 2 === 0 ? 'north' : 'south' },
            big: { N: '12345678901234567890123456789012345678' },
          },
        }),
      );
    // A whole second (as the backfill asks for), after point-in-time recovery was enabled.
    await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 5));
    const exportTime = new Date(Math.floor(Date.now() / 1000) * 1000);
    const description = await exportTable(h, tableName, { ExportTime: exportTime });
    const exportStore = new DirectoryObjectStore(join(h.dir, 's3', BUCKET));
    const lake = new DirectoryObjectStore(join(h.dir, 'lake'));
    const table = { name: 'visits', pipe: { partitionBy: ['siteId', 'year'] } };
    const land = async () =>
      landExport({
        exportStore,
        summaryKey: description.ExportManifest!,
        keyAttributes: ['pk', 'sk'],
        table,
        writer: new PartitionedNdjsonWriter({ store: lake, maxBytes: 1024 * 1024 }),
        errors: new ErrorSink({ store: lake, pipeline: 'visits-backfill' }),
      });
    const landed = await land();
    expect(landed).toMatchObject({ dataFiles: 1, records: 25, failed: 0 });
    const lines = await lakeLines(lake, 'changes/visits/');
    expect(lines).toHaveLength(25);
    const exportId = description.ExportArn!.split('/').pop()!;
    for (const line of lines) {
      expect(line).toMatchObject({
        op: 'r',
        table: 'visits',
        before: null,
        seq: null,
        ts: exportTime.toISOString(),
        source: { kind: 'snapshot', exportId, time: exportTime.toISOString() },
      });
      expect(Object.keys(line['keys'] as object).sort()).toEqual(['pk', 'sk']);
    }
    const keys: string[] = [];
    for await (const { key } of lake.list('changes/visits/')) keys.push(key);
    expect(keys.every((key) => /^changes\/visits\/siteId=(north|south)\/year=\d{4}\//.test(key))).toBe(true);
    // The big number keeps every digit.
    const first = (await lake.get(keys[0]!))!;
    expect(gunzipSync(first).toString('utf8')).toContain('"big":12345678901234567890123456789012345678');

    // Landing the same export again writes the same keys and bytes: idempotent.
    const before = new Map<string, string>();
    for (const key of keys) before.set(key, Buffer.from((await lake.get(key))!).toString('base64'));
    await land();
    const after = new Map<string, string>();
    for await (const { key } of lake.list('changes/visits/'))
      after.set(key, Buffer.from((await lake.get(key))!).toString('base64'));
    expect(after).toEqual(before);
  });

  it('lands an INCREMENTAL export as c/u/d records with the write times', async () => {
    const tableName = await createTable(h.ddb, 'NEW_AND_OLD_IMAGES');
    await h.ddb.send(
      new UpdateContinuousBackupsCommand({
        TableName: tableName,
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      }),
    );
    await h.ddb.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: 'a' }, v: { N: '1' } } }));
    const from = new Date(Math.floor(Date.now() / 1000) * 1000 + 1000);
    await new Promise((resolve) => setTimeout(resolve, from.getTime() - Date.now() + 20));
    await h.ddb.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: 'a' }, v: { N: '2' } } }));
    await h.ddb.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: 'b' }, v: { N: '3' } } }));
    await h.ddb.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: 'c' }, v: { N: '4' } } }));
    await h.ddb.send(new DeleteItemCommand({ TableName: tableName, Key: { pk: { S: 'c' } } }));
    const to = new Date(Math.ceil(Date.now() / 1000) * 1000 + 1000);
    await new Promise((resolve) => setTimeout(resolve, to.getTime() - Date.now() + 20));
    const description = await exportTable(h, tableName, {
      ExportType: 'INCREMENTAL_EXPORT',
      IncrementalExportSpecification: { ExportFromTime: from, ExportToTime: to, ExportViewType: 'NEW_AND_OLD_IMAGES' },
    });
    const lake = new DirectoryObjectStore(join(h.dir, 'lake-incremental'));
    const landed = await landExport({
      exportStore: new DirectoryObjectStore(join(h.dir, 's3', BUCKET)),
      summaryKey: description.ExportManifest!,
      keyAttributes: ['pk'],
      table: { name: 'visits' },
      writer: new PartitionedNdjsonWriter({ store: lake, maxBytes: 1024 * 1024 }),
      errors: new ErrorSink({ store: lake, pipeline: 'visits-repair' }),
    });
    expect(landed.failed).toBe(0);
    const byKey = new Map(
      (await lakeLines(lake, 'changes/visits/')).map((line) => [(line['keys'] as { pk: string }).pk, line]),
    );
    expect(byKey.get('a')).toMatchObject({ op: 'u', before: { v: 1 }, after: { v: 2 } });
    expect(byKey.get('b')).toMatchObject({ op: 'c', before: null, after: { v: 3 } });
    expect(byKey.get('c')).toMatchObject({ op: 'd', after: null });
    for (const line of byKey.values()) {
      const source = line['source'] as { kind: string; time: string };
      expect(source.kind).toBe('incremental-export');
      expect(Date.parse(source.time)).toBeGreaterThanOrEqual(from.getTime());
      expect(Date.parse(source.time)).toBeLessThan(to.getTime());
    }
  });
});
