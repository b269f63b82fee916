import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbLedgerStore } from '../../../src/fhir-export/dynamodb-ledger-store.js';
import { RunLedger } from '../../../src/fhir-export/run-ledger.js';
import { startEmbeddedDynamoDb } from '../../../src/local/dynamodb/index.js';
import { stateDirPaths } from '../../../src/local/state-dir.js';

describe('RunLedger over the embedded DynamoDB endpoint', () => {
  let dir: string;
  let db: Awaited<ReturnType<typeof startEmbeddedDynamoDb>>;
  let client: DynamoDBClient;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ledger-'));
    const paths = stateDirPaths(dir);
    db = await startEmbeddedDynamoDb({ dataDir: paths.dynamodb, streamsDbFile: paths.streams, port: 0 });
    client = new DynamoDBClient({
      endpoint: db.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    await client.send(
      new CreateTableCommand({
        TableName: 'ledger',
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
  });
  afterAll(async () => {
    client.destroy();
    await db.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('conditional writes: of many concurrent acquires exactly one wins; the lock is released on complete', async () => {
    const ledger = new RunLedger({
      store: new DynamoDbLedgerStore(client, 'ledger'),
      executions: { statusOf: async () => 'RUNNING' },
    });
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        ledger.acquire({ executionArn: `arn:e:${i}`, executionName: `run-${i}`, startTime: `2024-01-01T00:00:0${i}Z` }),
      ),
    );
    const winners = results.filter((r) => r.acquired);
    expect(winners).toHaveLength(1);
    const winner = winners[0]!;
    expect((await ledger.lock())!.runId).toBe(winner.runId);
    await ledger.complete({
      runId: winner.runId,
      executionArn: `arn:e:${winner.runId.slice(4)}`,
      transactionTime: '2024-01-01T01:00:00Z',
      jobId: 'j',
      results: [],
    });
    expect(await ledger.lock()).toBeUndefined();
    const runs = await ledger.listRuns();
    expect(runs).toHaveLength(8);
    expect(runs.filter((r) => r.status === 'SKIPPED')).toHaveLength(7);
    expect(runs.find((r) => r.runId === winner.runId)!.status).toBe('COMPLETED');
  });
});
