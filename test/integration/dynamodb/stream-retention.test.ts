import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DescribeExportCommand,
  DynamoDBClient,
  ExportTableToPointInTimeCommand,
  PutItemCommand,
  UpdateContinuousBackupsCommand,
  UpdateTableCommand,
} from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  TrimmedDataAccessException,
  type ShardIteratorType,
} from '@aws-sdk/client-dynamodb-streams';
import { startEmbeddedDynamoDb, type EmbeddedDynamoDb } from '../../../src/local/dynamodb/index.js';
import { clientConfig, createTable, rawCall, readAllRecords, shardIdOf } from './harness.js';

/** Short enough for a test, long enough that a record just written is still there when it is read. */
const RETENTION_SECONDS = 1.5;
const BUCKET = 'export-bucket';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until everything written before this call is past the retention. */
async function waitPastRetention(): Promise<void> {
  await sleep(RETENTION_SECONDS * 1000 + 100);
}

/** Waits until the next whole second and returns it (epoch ms): stream record times have second resolution. */
async function nextSecond(): Promise<number> {
  const next = Math.ceil((Date.now() + 1) / 1000) * 1000;
  await sleep(next - Date.now() + 5);
  return next;
}

describe('embedded DynamoDB: stream retention', () => {
  let dir: string;
  let server: EmbeddedDynamoDb;
  let ddb: DynamoDBClient;
  let streams: DynamoDBStreamsClient;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tributary-retention-'));
    server = await startEmbeddedDynamoDb({
      dataDir: join(dir, 'dynamodb'),
      streamsDbFile: join(dir, 'dynamodb-streams.sqlite'),
      bucketsDir: join(dir, 's3'),
      streamRetentionSeconds: RETENTION_SECONDS,
    });
    ddb = new DynamoDBClient(clientConfig(server.endpoint));
    streams = new DynamoDBStreamsClient(clientConfig(server.endpoint));
  });
  afterAll(async () => {
    ddb.destroy();
    streams.destroy();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  const put = (table: string, pk: string) =>
    ddb.send(new PutItemCommand({ TableName: table, Item: { pk: { S: pk }, v: { S: `${pk}-value` } } }));

  async function streamOf(table: string): Promise<{ streamArn: string; shardId: string }> {
    const listed = await rawCall(server.endpoint, 'DynamoDBStreams_20120810.ListStreams', { TableName: table });
    const streamArn = (listed.body['Streams'] as Array<{ StreamArn: string }>)[0]?.StreamArn ?? '';
    return { streamArn, shardId: await shardIdOf(streams, streamArn) };
  }

  async function iterator(
    at: { streamArn: string; shardId: string },
    type: ShardIteratorType,
    sequenceNumber?: string,
  ): Promise<string> {
    const output = await streams.send(
      new GetShardIteratorCommand({
        StreamArn: at.streamArn,
        ShardId: at.shardId,
        ShardIteratorType: type,
        ...(sequenceNumber ? { SequenceNumber: sequenceNumber } : {}),
      }),
    );
    return output.ShardIterator ?? '';
  }

  const keysOf = (records: Array<{ dynamodb?: { Keys?: Record<string, { S?: string }> } }>) =>
    records.map((r) => r.dynamodb?.Keys?.['pk']?.S);

  it('trims records past the retention: TRIM_HORIZON and DescribeStream start after them; a trimmed checkpoint is TrimmedDataAccessException', async () => {
    const table = await createTable(ddb, 'NEW_AND_OLD_IMAGES', { prefix: 'retention' });
    const stream = await streamOf(table);
    const takenBeforeTrim = await iterator(stream, 'TRIM_HORIZON');
    await put(table, 'old-1');
    await put(table, 'old-2');
    const old = await readAllRecords(streams, stream.streamArn);
    expect(keysOf(old)).toEqual(['old-1', 'old-2']);
    const [old1, old2] = old.map((r) => r.dynamodb?.SequenceNumber ?? '');
    // A reader that has read old-1 only: its next record, old-2, will be trimmed.
    const afterOld1 = (await streams.send(new GetRecordsCommand({ ShardIterator: takenBeforeTrim, Limit: 1 })))
      .NextShardIterator;

    await waitPastRetention();
    await put(table, 'new-1');

    expect(keysOf(await readAllRecords(streams, stream.streamArn))).toEqual(['new-1']);
    const described = await streams.send(new DescribeStreamCommand({ StreamArn: stream.streamArn }));
    const fresh = await readAllRecords(streams, stream.streamArn);
    expect(described.StreamDescription?.Shards?.[0]?.SequenceNumberRange?.StartingSequenceNumber).toBe(
      fresh[0]?.dynamodb?.SequenceNumber,
    );

    // A checkpoint behind the trim horizon: a record after it is gone.
    await expect(iterator(stream, 'AFTER_SEQUENCE_NUMBER', old1)).rejects.toBeInstanceOf(TrimmedDataAccessException);
    await expect(iterator(stream, 'AT_SEQUENCE_NUMBER', old1)).rejects.toBeInstanceOf(TrimmedDataAccessException);
    await expect(iterator(stream, 'AT_SEQUENCE_NUMBER', old2)).rejects.toBeInstanceOf(TrimmedDataAccessException);
    // Iterators taken before the trim and used after it.
    await expect(streams.send(new GetRecordsCommand({ ShardIterator: takenBeforeTrim }))).rejects.toBeInstanceOf(
      TrimmedDataAccessException,
    );
    await expect(streams.send(new GetRecordsCommand({ ShardIterator: afterOld1 }))).rejects.toBeInstanceOf(
      TrimmedDataAccessException,
    );
    // A checkpoint at the newest trimmed record lost nothing: its next record is still there.
    const page = await streams.send(
      new GetRecordsCommand({ ShardIterator: await iterator(stream, 'AFTER_SEQUENCE_NUMBER', old2) }),
    );
    expect(keysOf(page.Records ?? [])).toEqual(['new-1']);
    expect(page.NextShardIterator).toBeDefined();
  });

  it("answers AWS's wire error: HTTP 400 with the TrimmedDataAccessException type", async () => {
    const table = await createTable(ddb, 'NEW_IMAGE', { prefix: 'retention-wire' });
    const stream = await streamOf(table);
    await put(table, 'a');
    await put(table, 'b');
    const [a] = (await readAllRecords(streams, stream.streamArn)).map((r) => r.dynamodb?.SequenceNumber ?? '');
    await waitPastRetention();
    const response = await rawCall(server.endpoint, 'DynamoDBStreams_20120810.GetShardIterator', {
      StreamArn: stream.streamArn,
      ShardId: stream.shardId,
      ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
      SequenceNumber: a,
    });
    expect(response.status).toBe(400);
    expect(response.body).toEqual({
      __type: 'com.amazonaws.dynamodb.v20120810#TrimmedDataAccessException',
      message: 'The data you are trying to access has been trimmed.',
    });
  });

  it('a reader whose next record is still there reads on: records are trimmed only past the retention', async () => {
    const table = await createTable(ddb, 'NEW_IMAGE', { prefix: 'retention-live' });
    const stream = await streamOf(table);
    await put(table, 'x');
    await put(table, 'y');
    const [x] = (await readAllRecords(streams, stream.streamArn)).map((r) => r.dynamodb?.SequenceNumber ?? '');
    const page = await streams.send(
      new GetRecordsCommand({ ShardIterator: await iterator(stream, 'AFTER_SEQUENCE_NUMBER', x) }),
    );
    expect(keysOf(page.Records ?? [])).toEqual(['y']);
  });

  it('an INCREMENTAL export over a window whose records are trimmed from the stream still holds them (PITR on)', async () => {
    const table = await createTable(ddb, 'NEW_AND_OLD_IMAGES', { prefix: 'retention-export' });
    await ddb.send(
      new UpdateContinuousBackupsCommand({
        TableName: table,
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      }),
    );
    const fromMs = await nextSecond();
    await put(table, 'e1');
    await put(table, 'e2');
    await waitPastRetention();
    const stream = await streamOf(table);
    expect(await readAllRecords(streams, stream.streamArn)).toEqual([]);
    // Let the purge timer (every retention / 2) run at least once: PITR keeps the records.
    await sleep((RETENTION_SECONDS * 1000) / 2 + 100);

    const lines = await incrementalExport(table, fromMs);
    expect(lines.map((line) => (line['Keys'] as { pk: { S: string } }).pk.S).sort()).toEqual(['e1', 'e2']);
    expect(lines[0]).toHaveProperty('NewImage');
  });

  it('a stream enabled after PITR: an export from the stream on holds its records, trimmed or not; one reaching before it or over a disabled time is refused', async () => {
    const table = await createTable(ddb, undefined, { prefix: 'retention-late-stream' });
    await ddb.send(
      new UpdateContinuousBackupsCommand({
        TableName: table,
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      }),
    );
    const beforeStreamMs = await nextSecond();
    const setStream = (enabled: boolean) =>
      ddb.send(
        new UpdateTableCommand({
          TableName: table,
          StreamSpecification: enabled
            ? { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' }
            : { StreamEnabled: false },
        }),
      );
    await setStream(true);
    const fromMs = await nextSecond();
    await put(table, 'late-1');
    await waitPastRetention();
    await put(table, 'late-2');
    const lines = await incrementalExport(table, fromMs);
    expect(lines.map((line) => (line['Keys'] as { pk: { S: string } }).pk.S).sort()).toEqual(['late-1', 'late-2']);

    // The embedded store only knows the changes its stream captured.
    await expect(incrementalExport(table, beforeStreamMs)).rejects.toThrow(/no stream of the table captured/);
    await setStream(false);
    await setStream(true);
    await put(table, 'late-3');
    await expect(incrementalExport(table, fromMs)).rejects.toThrow(/no stream of the table captured/);
  });

  /** Runs an INCREMENTAL export from `fromMs` to now and returns its data lines. */
  async function incrementalExport(table: string, fromMs: number): Promise<Array<Record<string, unknown>>> {
    const started = await ddb.send(
      new ExportTableToPointInTimeCommand({
        TableArn: `arn:aws:dynamodb:us-east-1:000000000000:table/${table}`,
        S3Bucket: BUCKET,
        ExportType: 'INCREMENTAL_EXPORT',
        IncrementalExportSpecification: { ExportFromTime: new Date(fromMs), ExportViewType: 'NEW_AND_OLD_IMAGES' },
      }),
    );
    const described = (
      await ddb.send(new DescribeExportCommand({ ExportArn: started.ExportDescription?.ExportArn ?? '' }))
    ).ExportDescription;
    expect(described?.ExportStatus).toBe('COMPLETED');
    const read = (key: string) => readFile(join(dir, 's3', BUCKET, key));
    const summary = JSON.parse((await read(described?.ExportManifest ?? '')).toString('utf8')) as {
      manifestFilesS3Key: string;
    };
    const files = (await read(summary.manifestFilesS3Key))
      .toString('utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { dataFileS3Key: string });
    const lines: Array<Record<string, unknown>> = [];
    for (const file of files) {
      for (const line of gunzipSync(await read(file.dataFileS3Key))
        .toString('utf8')
        .split('\n')
        .filter(Boolean)) {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
    }
    return lines;
  }
});
