import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DeleteItemCommand,
  DescribeContinuousBackupsCommand,
  DescribeExportCommand,
  ExportNotFoundException,
  ExportTableToPointInTimeCommand,
  ListExportsCommand,
  PointInTimeRecoveryUnavailableException,
  PutItemCommand,
  ScanCommand,
  TableNotFoundException,
  UpdateContinuousBackupsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { createTable, startHarness, type Harness } from './harness.js';

const BUCKET = 'export-bucket';

function tableArn(tableName: string): string {
  return `arn:aws:dynamodb:us-east-1:000000000000:table/${tableName}`;
}

async function enablePitr(h: Harness, tableName: string): Promise<void> {
  await h.ddb.send(
    new UpdateContinuousBackupsCommand({
      TableName: tableName,
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    }),
  );
}

async function readObject(h: Harness, key: string): Promise<Buffer> {
  return readFile(join(h.dir, 's3', BUCKET, key));
}

/** The manifests and data lines of an export, read from the local S3 directory. */
async function readExport(h: Harness, manifestSummaryKey: string) {
  const summary = JSON.parse((await readObject(h, manifestSummaryKey)).toString('utf8')) as Record<string, unknown>;
  const files = (await readObject(h, summary['manifestFilesS3Key'] as string))
    .toString('utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { itemCount: number; dataFileS3Key: string; md5Checksum: string });
  const lines: Array<Record<string, unknown>> = [];
  for (const file of files) {
    const text = gunzipSync(await readObject(h, file.dataFileS3Key)).toString('utf8');
    lines.push(
      ...text
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    );
  }
  return { summary, files, lines };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until the next whole second and returns it (epoch ms): stream record times have second resolution. */
async function nextSecond(): Promise<number> {
  const next = Math.ceil((Date.now() + 1) / 1000) * 1000;
  await sleep(next - Date.now() + 5);
  return next;
}

describe('embedded DynamoDB: export to S3', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.dispose();
  });

  it('refuses an export while point-in-time recovery is off, as AWS does', async () => {
    const table = await createTable(h.ddb, undefined);
    const described = await h.ddb.send(new DescribeContinuousBackupsCommand({ TableName: table }));
    expect(described.ContinuousBackupsDescription?.PointInTimeRecoveryDescription?.PointInTimeRecoveryStatus).toBe(
      'DISABLED',
    );
    const error = await h.ddb
      .send(new ExportTableToPointInTimeCommand({ TableArn: tableArn(table), S3Bucket: BUCKET }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PointInTimeRecoveryUnavailableException);

    const missing = await h.ddb
      .send(new ExportTableToPointInTimeCommand({ TableArn: tableArn('no-such-table'), S3Bucket: BUCKET }))
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(TableNotFoundException);
    const unknownExport = await h.ddb
      .send(new DescribeExportCommand({ ExportArn: `${tableArn(table)}/export/01234567890123-abcdef01` }))
      .catch((e: unknown) => e);
    expect(unknownExport).toBeInstanceOf(ExportNotFoundException);
  });

  it('FULL export: manifests and gzipped DynamoDB JSON lines equal to a Scan; DescribeExport and ListExports', async () => {
    const table = await createTable(h.ddb, undefined, { rangeKey: true });
    await enablePitr(h, table);
    const backups = await h.ddb.send(new DescribeContinuousBackupsCommand({ TableName: table }));
    expect(backups.ContinuousBackupsDescription?.PointInTimeRecoveryDescription?.PointInTimeRecoveryStatus).toBe(
      'ENABLED',
    );
    for (let i = 0; i < 5; i += 1) {
      await h.ddb.send(
        new PutItemCommand({
          TableName: table,
          Item: { pk: { S: `p${i % 2}` }, sk: { N: String(i) }, tags: { SS: ['a', 'b'] }, n: { NULL: true } },
        }),
      );
    }

    const started = await h.ddb.send(
      new ExportTableToPointInTimeCommand({ TableArn: tableArn(table), S3Bucket: BUCKET, S3Prefix: 'exports/full' }),
    );
    const exportArn = started.ExportDescription?.ExportArn ?? '';
    expect(exportArn).toMatch(new RegExp(`^${tableArn(table)}/export/\\d{14}-[0-9a-f]{8}$`));
    expect(started.ExportDescription).toMatchObject({
      ExportStatus: 'IN_PROGRESS',
      ExportType: 'FULL_EXPORT',
      ExportFormat: 'DYNAMODB_JSON',
      S3Bucket: BUCKET,
      S3Prefix: 'exports/full',
      TableArn: tableArn(table),
    });
    expect(started.ExportDescription?.ExportTime).toBeInstanceOf(Date);

    const described = (await h.ddb.send(new DescribeExportCommand({ ExportArn: exportArn }))).ExportDescription;
    expect(described).toMatchObject({ ExportStatus: 'COMPLETED', ItemCount: 5, ExportType: 'FULL_EXPORT' });
    expect(described?.EndTime).toBeInstanceOf(Date);
    const exportId = exportArn.split('/').pop() ?? '';
    expect(described?.ExportManifest).toBe(`exports/full/AWSDynamoDB/${exportId}/manifest-summary.json`);

    const { summary, files, lines } = await readExport(h, described?.ExportManifest ?? '');
    expect(summary).toMatchObject({
      exportArn,
      tableArn: tableArn(table),
      s3Bucket: BUCKET,
      s3Prefix: 'exports/full',
      itemCount: 5,
      outputFormat: 'DYNAMODB_JSON',
      exportType: 'FULL_EXPORT',
      manifestFilesS3Key: `exports/full/AWSDynamoDB/${exportId}/manifest-files.json`,
    });
    expect(files).toHaveLength(1);
    expect(files[0]?.itemCount).toBe(5);
    expect(files[0]?.dataFileS3Key).toMatch(
      new RegExp(`^exports/full/AWSDynamoDB/${exportId}/data/[^/]+\\.json\\.gz$`),
    );
    await expect(readObject(h, `exports/full/AWSDynamoDB/${exportId}/_started`)).resolves.toHaveLength(0);

    const scanned = (await h.ddb.send(new ScanCommand({ TableName: table, ConsistentRead: true }))).Items ?? [];
    const sortKey = (item: unknown) => JSON.stringify(item);
    expect(lines.map((line) => Object.keys(line))).toEqual(lines.map(() => ['Item']));
    expect(lines.map((line) => line['Item']).sort((a, b) => sortKey(a).localeCompare(sortKey(b)))).toEqual(
      scanned
        .map((item) => JSON.parse(JSON.stringify(item)) as unknown)
        .sort((a, b) => sortKey(a).localeCompare(sortKey(b))),
    );

    const listed = await h.ddb.send(new ListExportsCommand({ TableArn: tableArn(table) }));
    expect(listed.ExportSummaries).toEqual([
      { ExportArn: exportArn, ExportStatus: 'COMPLETED', ExportType: 'FULL_EXPORT' },
    ]);
    expect(listed.NextToken).toBeUndefined();
  });

  it('INCREMENTAL export: per changed key in the window, Keys with NewImage/OldImage from the stream records', async () => {
    const table = await createTable(h.ddb, 'NEW_AND_OLD_IMAGES');
    await enablePitr(h, table);
    const put = (pk: string, v: string) =>
      h.ddb.send(new PutItemCommand({ TableName: table, Item: { pk: { S: pk }, v: { S: v } } }));
    await put('kept', 'k0');
    await put('updated', 'u0');
    await put('deleted', 'd0');

    const fromMs = await nextSecond();
    await h.ddb.send(
      new UpdateItemCommand({
        TableName: table,
        Key: { pk: { S: 'updated' } },
        UpdateExpression: 'SET v = :v',
        ExpressionAttributeValues: { ':v': { S: 'u1' } },
      }),
    );
    await put('updated', 'u2');
    await h.ddb.send(new DeleteItemCommand({ TableName: table, Key: { pk: { S: 'deleted' } } }));
    await put('inserted', 'i1');
    const toMs = await nextSecond();
    await put('later', 'l1'); // after the window

    const started = await h.ddb.send(
      new ExportTableToPointInTimeCommand({
        TableArn: tableArn(table),
        S3Bucket: BUCKET,
        ExportType: 'INCREMENTAL_EXPORT',
        IncrementalExportSpecification: {
          ExportFromTime: new Date(fromMs),
          ExportToTime: new Date(toMs),
          ExportViewType: 'NEW_AND_OLD_IMAGES',
        },
      }),
    );
    expect(started.ExportDescription).toMatchObject({ ExportStatus: 'IN_PROGRESS', ExportType: 'INCREMENTAL_EXPORT' });
    expect(started.ExportDescription?.IncrementalExportSpecification).toEqual({
      ExportFromTime: new Date(fromMs),
      ExportToTime: new Date(toMs),
      ExportViewType: 'NEW_AND_OLD_IMAGES',
    });
    const exportArn = started.ExportDescription?.ExportArn ?? '';
    const described = (await h.ddb.send(new DescribeExportCommand({ ExportArn: exportArn }))).ExportDescription;
    expect(described).toMatchObject({ ExportStatus: 'COMPLETED', ItemCount: 3 });

    const { summary, files, lines } = await readExport(h, described?.ExportManifest ?? '');
    expect(summary).toMatchObject({
      exportType: 'INCREMENTAL_EXPORT',
      itemCount: 3,
      exportFromTime: new Date(fromMs).toISOString(),
      exportToTime: new Date(toMs).toISOString(),
      outputView: 'NEW_AND_OLD_IMAGES',
    });
    expect(files[0]?.itemCount).toBe(3);
    const byKey = new Map(lines.map((line) => [(line['Keys'] as { pk: { S: string } }).pk.S, line]));
    expect([...byKey.keys()].sort()).toEqual(['deleted', 'inserted', 'updated']);
    for (const line of lines) {
      const micros = Number((line['Metadata'] as { WriteTimestampMicros: { N: string } }).WriteTimestampMicros.N);
      expect(micros).toBeGreaterThanOrEqual(fromMs * 1000);
      expect(micros).toBeLessThan(toMs * 1000);
    }
    expect(byKey.get('updated')).toMatchObject({
      Keys: { pk: { S: 'updated' } },
      OldImage: { pk: { S: 'updated' }, v: { S: 'u0' } },
      NewImage: { pk: { S: 'updated' }, v: { S: 'u2' } },
    });
    expect(byKey.get('deleted')).toMatchObject({ OldImage: { pk: { S: 'deleted' }, v: { S: 'd0' } } });
    expect(byKey.get('deleted')).not.toHaveProperty('NewImage');
    expect(byKey.get('inserted')).toMatchObject({ NewImage: { pk: { S: 'inserted' }, v: { S: 'i1' } } });
    expect(byKey.get('inserted')).not.toHaveProperty('OldImage');

    const listed = await h.ddb.send(new ListExportsCommand({ TableArn: tableArn(table), MaxResults: 1 }));
    expect(listed.ExportSummaries).toEqual([
      { ExportArn: exportArn, ExportStatus: 'COMPLETED', ExportType: 'INCREMENTAL_EXPORT' },
    ]);
  });
});
