import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureSeedTables, generateDomainRecords, seedDynamo } from '../../../src/synthetic/index.js';
import { startHarness, type Harness } from '../dynamodb/harness.js';

describe('seedDynamo against the embedded DynamoDB', () => {
  let harness: Harness;
  let client: DynamoDBClient;
  let documents: DynamoDBDocumentClient;

  beforeAll(async () => {
    harness = await startHarness();
    client = harness.ddb;
    documents = DynamoDBDocumentClient.from(client);
  });

  afterAll(async () => {
    await harness?.dispose();
  });

  it('creates the seed tables once, with their streams, and waits until they are ACTIVE', async () => {
    expect((await ensureSeedTables(documents)).sort()).toEqual(['patients', 'visits']);
    expect(await ensureSeedTables(client)).toEqual([]);
    const { Table } = await client.send(new DescribeTableCommand({ TableName: 'visits' }));
    expect(Table?.KeySchema).toEqual([{ AttributeName: 'id', KeyType: 'HASH' }]);
    expect(Table?.TableStatus).toBe('ACTIVE');
    expect(Table?.StreamSpecification?.StreamEnabled).toBe(true);
  });

  it('writes the domain records in batches of 25, idempotently, with progress', async () => {
    const options = { patients: 30, seed: 'dynamo' };
    const expected = [...generateDomainRecords(options)];
    const visitCount = expected.reduce((sum, r) => sum + r.visits.length, 0);
    const progress: number[] = [];
    const counts = await seedDynamo({
      client: documents,
      ...options,
      concurrency: 2,
      onProgress: (done) => progress.push(done),
    });
    expect(counts.patients).toBe(30);
    expect(counts.visits).toBe(visitCount);
    expect(counts.batches).toBe(Math.ceil((30 + visitCount) / 25));
    expect(progress.at(-1)).toBe(30);

    // Re-seeding the same seed overwrites rather than duplicates.
    await seedDynamo({ client: documents, ...options });
    const patients = await documents.send(new ScanCommand({ TableName: 'patients' }));
    const visits = await documents.send(new ScanCommand({ TableName: 'visits' }));
    expect(patients.Items).toHaveLength(30);
    expect(visits.Items).toHaveLength(visitCount);

    const sample = expected[7]!;
    const stored = await documents.send(new GetCommand({ TableName: 'patients', Key: { id: sample.patient.id } }));
    expect(stored.Item).toEqual(sample.patient);
    const visitIds = new Set((visits.Items ?? []).map((item) => item.patientId as string));
    expect([...visitIds].every((id) => /^p-\d{6}$/.test(id))).toBe(true);
    expect(typeof visits.Items?.[0]?.createdAtTime).toBe('number');
  });
});
