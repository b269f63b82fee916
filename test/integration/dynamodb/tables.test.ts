import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  ListTablesCommand,
  ResourceNotFoundException,
  UpdateTableCommand,
  type StreamViewType,
} from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  ListStreamsCommand,
  ResourceNotFoundException as StreamsResourceNotFound,
} from '@aws-sdk/client-dynamodb-streams';
import { createTable, rawCall, startHarness, type Harness } from './harness.js';

const VIEW_TYPES: StreamViewType[] = ['KEYS_ONLY', 'NEW_IMAGE', 'OLD_IMAGE', 'NEW_AND_OLD_IMAGES'];
const STREAM_ARN =
  /^arn:aws:dynamodb:us-east-1:000000000000:table\/([^/]+)\/stream\/(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})$/;

describe('embedded DynamoDB: tables and streams metadata', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.dispose();
  });

  it('binds to 127.0.0.1 on an ephemeral port', () => {
    expect(h.server.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it.each(VIEW_TYPES)('CreateTable with a %s stream reports it in CreateTable and DescribeTable', async (viewType) => {
    const tableName = `views-${viewType}`;
    const created = await h.ddb.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        StreamSpecification: { StreamEnabled: true, StreamViewType: viewType },
      }),
    );
    expect(created.TableDescription?.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: viewType });
    const arn = created.TableDescription?.LatestStreamArn ?? '';
    const match = STREAM_ARN.exec(arn);
    expect(match?.[1]).toBe(tableName);
    expect(created.TableDescription?.LatestStreamLabel).toBe(match?.[2]);

    const described = await h.ddb.send(new DescribeTableCommand({ TableName: tableName }));
    expect(described.Table?.LatestStreamArn).toBe(arn);
    expect(described.Table?.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: viewType });
    expect(described.Table?.TableArn).toBe(`arn:aws:dynamodb:us-east-1:000000000000:table/${tableName}`);

    const stream = await h.streams.send(new DescribeStreamCommand({ StreamArn: arn }));
    const description = stream.StreamDescription;
    expect(description?.StreamStatus).toBe('ENABLED');
    expect(description?.StreamViewType).toBe(viewType);
    expect(description?.TableName).toBe(tableName);
    expect(description?.KeySchema).toEqual([{ AttributeName: 'pk', KeyType: 'HASH' }]);
    expect(description?.CreationRequestDateTime).toBeInstanceOf(Date);
    expect(description?.Shards).toHaveLength(1);
    expect(description?.Shards?.[0]?.ShardId).toMatch(/^shardId-\d{20}-[0-9a-f]{8}$/);
    expect(description?.Shards?.[0]?.SequenceNumberRange?.StartingSequenceNumber).toMatch(/^\d{21,}$/);
    expect(description?.Shards?.[0]?.SequenceNumberRange?.EndingSequenceNumber).toBeUndefined();
  });

  it('a table without StreamSpecification (or with StreamEnabled false) has no stream', async () => {
    const plain = await createTable(h.ddb, undefined);
    const off = `off-${Date.now()}`;
    await h.ddb.send(
      new CreateTableCommand({
        TableName: off,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        StreamSpecification: { StreamEnabled: false },
      }),
    );
    for (const name of [plain, off]) {
      const table = (await h.ddb.send(new DescribeTableCommand({ TableName: name }))).Table;
      expect(table?.StreamSpecification).toBeUndefined();
      expect(table?.LatestStreamArn).toBeUndefined();
      expect((await h.streams.send(new ListStreamsCommand({ TableName: name }))).Streams).toEqual([]);
    }
  });

  it('rejects StreamEnabled without a view type before creating the table', async () => {
    const name = `bad-spec-${Date.now()}`;
    await expect(
      h.ddb.send(
        new CreateTableCommand({
          TableName: name,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
          StreamSpecification: { StreamEnabled: true },
        }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(h.ddb.send(new DescribeTableCommand({ TableName: name }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
  });

  it('UpdateTable disables and re-enables a stream, each enablement a new stream ARN', async () => {
    const tableName = await createTable(h.ddb, 'NEW_IMAGE');
    const first = (await h.ddb.send(new DescribeTableCommand({ TableName: tableName }))).Table?.LatestStreamArn ?? '';

    const disabled = await h.ddb.send(
      new UpdateTableCommand({ TableName: tableName, StreamSpecification: { StreamEnabled: false } }),
    );
    expect(disabled.TableDescription?.StreamSpecification).toBeUndefined();
    expect(disabled.TableDescription?.LatestStreamArn).toBe(first);
    const closed = await h.streams.send(new DescribeStreamCommand({ StreamArn: first }));
    expect(closed.StreamDescription?.StreamStatus).toBe('DISABLED');
    expect(closed.StreamDescription?.Shards?.[0]?.SequenceNumberRange?.EndingSequenceNumber).toMatch(/^\d{21,}$/);

    await expect(
      h.ddb.send(new UpdateTableCommand({ TableName: tableName, StreamSpecification: { StreamEnabled: false } })),
    ).rejects.toMatchObject({ name: 'ValidationException' });

    const enabled = await h.ddb.send(
      new UpdateTableCommand({
        TableName: tableName,
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'KEYS_ONLY' },
      }),
    );
    const second = enabled.TableDescription?.LatestStreamArn;
    expect(second).toMatch(STREAM_ARN);
    expect(second).not.toBe(first);
    expect(enabled.TableDescription?.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'KEYS_ONLY' });

    await expect(
      h.ddb.send(
        new UpdateTableCommand({
          TableName: tableName,
          StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
        }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationException' });

    const listed = await h.streams.send(new ListStreamsCommand({ TableName: tableName }));
    expect(listed.Streams?.map((s) => s.StreamArn)).toEqual([first, second]);
  });

  it('UpdateTable with other settings plus a stream change applies both', async () => {
    const tableName = await createTable(h.ddb, undefined);
    const updated = await h.ddb.send(
      new UpdateTableCommand({
        TableName: tableName,
        BillingMode: 'PROVISIONED',
        ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 },
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'OLD_IMAGE' },
      }),
    );
    expect(updated.TableDescription?.ProvisionedThroughput?.ReadCapacityUnits).toBe(5);
    expect(updated.TableDescription?.StreamSpecification?.StreamViewType).toBe('OLD_IMAGE');
  });

  it('DeleteTable ends the stream; a re-created table of the same name does not inherit it', async () => {
    const tableName = await createTable(h.ddb, 'NEW_AND_OLD_IMAGES');
    const arn = (await h.ddb.send(new DescribeTableCommand({ TableName: tableName }))).Table?.LatestStreamArn ?? '';
    await h.ddb.send(new DeleteTableCommand({ TableName: tableName }));
    const stream = await h.streams.send(new DescribeStreamCommand({ StreamArn: arn }));
    expect(stream.StreamDescription?.StreamStatus).toBe('DISABLED');

    await h.ddb.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      }),
    );
    const again = (await h.ddb.send(new DescribeTableCommand({ TableName: tableName }))).Table;
    expect(again?.LatestStreamArn).toBeUndefined();
    expect(again?.StreamSpecification).toBeUndefined();
  });

  it('ListTables passes through and ListStreams filters by table and pages', async () => {
    const a = await createTable(h.ddb, 'KEYS_ONLY', { prefix: 'list' });
    const b = await createTable(h.ddb, 'KEYS_ONLY', { prefix: 'list' });
    const tables = await h.ddb.send(new ListTablesCommand({}));
    expect(tables.TableNames).toEqual(expect.arrayContaining([a, b]));

    const onlyA = await h.streams.send(new ListStreamsCommand({ TableName: a }));
    expect(onlyA.Streams?.map((s) => s.TableName)).toEqual([a]);

    const all = await h.streams.send(new ListStreamsCommand({}));
    const total = all.Streams?.length ?? 0;
    expect(total).toBeGreaterThanOrEqual(2);
    const seen: string[] = [];
    let start: string | undefined;
    do {
      const page = await h.streams.send(new ListStreamsCommand({ Limit: 1, ExclusiveStartStreamArn: start }));
      expect(page.Streams?.length).toBeLessThanOrEqual(1);
      seen.push(...(page.Streams ?? []).map((s) => s.StreamArn ?? ''));
      start = page.LastEvaluatedStreamArn;
    } while (start);
    expect(seen).toEqual(all.Streams?.map((s) => s.StreamArn));
  });

  it('DescribeStream of an unknown ARN raises a typed ResourceNotFoundException', async () => {
    await expect(
      h.streams.send(
        new DescribeStreamCommand({
          StreamArn: 'arn:aws:dynamodb:us-east-1:000000000000:table/nope/stream/2020-01-01T00:00:00.000',
        }),
      ),
    ).rejects.toBeInstanceOf(StreamsResourceNotFound);
  });

  it('rewritten responses carry a correct x-amz-crc32 and a request id', async () => {
    const tableName = await createTable(h.ddb, 'NEW_IMAGE');
    const response = await fetch(h.server.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.DescribeTable',
        'x-amz-date': '20260101T000000Z',
        authorization:
          'AWS4-HMAC-SHA256 Credential=x/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: JSON.stringify({ TableName: tableName }),
    });
    const body = Buffer.from(await response.arrayBuffer());
    expect(response.headers.get('x-amz-crc32')).toBe(String(crc32(body)));
    expect(response.headers.get('x-amzn-requestid')).toBeTruthy();
    expect(JSON.parse(body.toString()).Table.LatestStreamArn).toMatch(STREAM_ARN);

    const error = await rawCall(h.server.endpoint, 'DynamoDBStreams_20120810.GetRecords', {
      ShardIterator: 'not-an-iterator',
    });
    expect(error.status).toBe(400);
    expect(error.body).toEqual({
      __type: 'com.amazonaws.dynamodb.v20120810#ValidationException',
      message: 'Invalid ShardIterator',
    });
  });
});
