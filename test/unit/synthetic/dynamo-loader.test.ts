import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { DynamoSeedError, ensureSeedTables, seedDynamo } from '../../../src/synthetic/index.js';

const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };
const fastRetry = { baseDelayMs: 1, maxDelayMs: 2 };

describe('seedDynamo batching', () => {
  const documentsMock = mockClient(DynamoDBDocumentClient);
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1', credentials }));
  afterEach(() => documentsMock.reset());

  type Requests = Record<string, unknown[]>;
  const size = (items: Requests | undefined) => Object.values(items ?? {}).reduce((sum, r) => sum + r.length, 0);

  it('sends at most 25 requests per BatchWriteItem and retries UnprocessedItems', async () => {
    let first = true;
    documentsMock.on(BatchWriteCommand).callsFake((input: { RequestItems: Requests }) => {
      if (!first) return { UnprocessedItems: {} };
      first = false;
      const [table, requests] = Object.entries(input.RequestItems)[0]!;
      return { UnprocessedItems: { [table]: requests.slice(0, 2) } };
    });
    const counts = await seedDynamo({ client: documents, patients: 20, seed: 1, concurrency: 1, retry: fastRetry });
    const sizes = documentsMock
      .commandCalls(BatchWriteCommand)
      .map((call) => size(call.args[0].input.RequestItems as Requests));
    expect(Math.max(...sizes)).toBe(25);
    expect(sizes[1]).toBe(2); // the retry carries only the unprocessed items
    expect(counts.retries).toBe(1);
    expect(counts.patients).toBe(20);
    expect(sizes.reduce((a, b) => a + b, 0) - 2).toBe(20 + counts.visits);
  });

  it('fails clearly when items stay unprocessed', async () => {
    documentsMock
      .on(BatchWriteCommand)
      .callsFake((input: { RequestItems: Requests }) => ({ UnprocessedItems: input.RequestItems }));
    const error = await seedDynamo({
      client: documents,
      patients: 1,
      seed: 1,
      retry: { ...fastRetry, attempts: 3 },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DynamoSeedError);
    expect((error as Error).message).toMatch(/unprocessed after 3 BatchWriteItem attempt/);
    expect(documentsMock.commandCalls(BatchWriteCommand)).toHaveLength(3);
  });
});

describe('ensureSeedTables', () => {
  const ddbMock = mockClient(DynamoDBClient);
  afterEach(() => ddbMock.reset());

  it('creates missing tables keyed by id with a NEW_AND_OLD_IMAGES stream', async () => {
    const created = new Set<string>();
    ddbMock.on(DescribeTableCommand).callsFake((input: { TableName: string }) => {
      if (!created.has(input.TableName)) throw new ResourceNotFoundException({ message: 'not found', $metadata: {} });
      return { Table: { TableName: input.TableName, TableStatus: 'ACTIVE' } };
    });
    ddbMock.on(CreateTableCommand).callsFake((input: { TableName: string }) => {
      created.add(input.TableName);
      return {};
    });
    const client = new DynamoDBClient({ region: 'us-east-1', credentials });
    expect(await ensureSeedTables(client, { patients: 'p', visits: 'v' })).toEqual(['p', 'v']);
    const inputs = ddbMock.commandCalls(CreateTableCommand).map((call) => call.args[0].input);
    expect(inputs).toHaveLength(2);
    for (const input of inputs) {
      expect(input.KeySchema).toEqual([{ AttributeName: 'id', KeyType: 'HASH' }]);
      expect(input.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' });
    }
    expect(await ensureSeedTables(client, { patients: 'p', visits: 'v' })).toEqual([]);
  });
});
