import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  type StreamViewType,
} from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record,
} from '@aws-sdk/client-dynamodb-streams';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startEmbeddedDynamoDb, type EmbeddedDynamoDb } from '../../../src/local/dynamodb/index.js';

/** A running embedded endpoint in a fresh temp dir, with unmodified SDK clients pointed at it. */
export interface Harness {
  dir: string;
  dataDir: string;
  streamsDbFile: string;
  server: EmbeddedDynamoDb;
  ddb: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  streams: DynamoDBStreamsClient;
  /** Stops the endpoint and destroys the clients, keeping the directories (e.g. for another process to serve them). */
  stop(): Promise<void>;
  /** Restarts the endpoint on the same directories (new port, new clients). */
  restart(): Promise<void>;
  /** Stops the endpoint and deletes the temp dir. */
  dispose(): Promise<void>;
}

const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };

/** SDK client config for an embedded endpoint (any credentials work; no retries). */
export function clientConfig(endpoint: string) {
  return { endpoint, region: 'us-east-1', credentials, maxAttempts: 1 };
}

export async function startHarness(): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'tributary-dynamodb-'));
  const dataDir = join(dir, 'dynamodb');
  const streamsDbFile = join(dir, 'dynamodb-streams.sqlite');
  const harness = {
    dir,
    dataDir,
    streamsDbFile,
    async stop() {
      await close(harness);
    },
    async restart() {
      await close(harness);
      await open(harness);
    },
    async dispose() {
      await close(harness);
      await rm(dir, { recursive: true, force: true });
    },
  } as Harness;
  await open(harness);
  return harness;
}

async function open(harness: Harness): Promise<void> {
  harness.server = await startEmbeddedDynamoDb({
    dataDir: harness.dataDir,
    streamsDbFile: harness.streamsDbFile,
    bucketsDir: join(harness.dir, 's3'),
    port: 0,
  });
  const config = clientConfig(harness.server.endpoint);
  harness.ddb = new DynamoDBClient(config);
  harness.doc = DynamoDBDocumentClient.from(harness.ddb);
  harness.streams = new DynamoDBStreamsClient(config);
}

async function close(harness: Harness): Promise<void> {
  harness.ddb.destroy();
  harness.streams.destroy();
  await harness.server.close();
}

let tableCounter = 0;

/** Creates a table `pk` (S) [+ `sk` (N)] with a stream of the given view type (or none); returns its name. */
export async function createTable(
  ddb: DynamoDBClient,
  viewType: StreamViewType | undefined,
  options: { rangeKey?: boolean; prefix?: string } = {},
): Promise<string> {
  tableCounter += 1;
  const tableName = `${options.prefix ?? 'table'}-${tableCounter}-${Date.now()}`;
  await ddb.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        ...(options.rangeKey ? [{ AttributeName: 'sk', AttributeType: 'N' as const }] : []),
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        ...(options.rangeKey ? [{ AttributeName: 'sk', KeyType: 'RANGE' as const }] : []),
      ],
      ...(viewType ? { StreamSpecification: { StreamEnabled: true, StreamViewType: viewType } } : {}),
    }),
  );
  return tableName;
}

/** The latest stream ARN of a table (throws if it has no stream). */
export async function streamArnOf(h: Harness, tableName: string): Promise<string> {
  const arn = (await h.ddb.send(new DescribeTableCommand({ TableName: tableName }))).Table?.LatestStreamArn;
  if (!arn) throw new Error('no stream');
  return arn;
}

/** The shard id of a stream (one shard per stream). */
export async function shardIdOf(streams: DynamoDBStreamsClient, streamArn: string): Promise<string> {
  const described = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
  const shardId = described.StreamDescription?.Shards?.[0]?.ShardId;
  if (!shardId) throw new Error('stream has no shard');
  return shardId;
}

/** Every record of a stream from TRIM_HORIZON, following NextShardIterator until a page is empty. */
export async function readAllRecords(
  streams: DynamoDBStreamsClient,
  streamArn: string,
  limit?: number,
): Promise<_Record[]> {
  const shardId = await shardIdOf(streams, streamArn);
  let iterator = (
    await streams.send(
      new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }),
    )
  ).ShardIterator;
  const records: _Record[] = [];
  while (iterator) {
    const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: limit }));
    records.push(...(page.Records ?? []));
    if (!page.Records?.length) break;
    iterator = page.NextShardIterator;
  }
  return records;
}

/** Posts a raw JSON request to the endpoint, to see the wire body the SDK would parse. */
export async function rawCall(
  endpoint: string,
  target: string,
  input: unknown,
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': target,
      'x-amz-date': '20260101T000000Z',
      authorization:
        'AWS4-HMAC-SHA256 Credential=x/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
    },
    body: JSON.stringify(input),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  };
}
