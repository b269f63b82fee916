import { spawn } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { _Record } from '@aws-sdk/client-dynamodb-streams';
import {
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { StreamStore } from '../../../src/local/dynamodb/stream-store.js';
import { clientConfig, createTable, readAllRecords, startHarness, streamArnOf, type Harness } from './harness.js';

const FIXTURE = new URL('./fixtures/crash-server.ts', import.meta.url).pathname;

/**
 * Serves the harness' directory from a child process armed with `faults`, sends `write` to it with
 * an unmodified SDK client and expects the child to die by SIGKILL at the fault hook (the client
 * sees the connection drop). The harness' own endpoint is closed meanwhile and restarted after.
 */
async function crashDuring(
  h: Harness,
  faults: string,
  write: (doc: DynamoDBDocumentClient) => Promise<unknown>,
): Promise<void> {
  await h.stop();
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, h.dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TRIBUTARY_FAULTS: faults },
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.once('exit', (_code, signal) => resolve(signal)),
  );
  const endpoint = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const ready = /READY (\S+)/.exec(stdout);
      if (ready?.[1]) resolve(ready[1]);
    });
    void exited.then(() => reject(new Error(`crash server exited before READY: ${stderr}`)));
  });
  const ddb = new DynamoDBClient(clientConfig(endpoint));
  try {
    await expect(write(DynamoDBDocumentClient.from(ddb))).rejects.toThrow();
  } finally {
    ddb.destroy();
  }
  expect(await exited).toBe('SIGKILL');
  expect(stderr).toContain(`fault hook ${faults.split('@')[0]}`);
  await h.restart();
}

/** The records' event, keys and images, in stream order. */
function changes(records: _Record[]) {
  return records.map((record) => ({
    eventName: record.eventName,
    keys: record.dynamodb?.Keys,
    old: record.dynamodb?.OldImage,
    new: record.dynamodb?.NewImage,
  }));
}

const item = (pk: string, v: number) => ({ pk: { S: pk }, v: { N: String(v) } });

describe('embedded DynamoDB: a crash between an item write and its stream record loses no record', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.dispose();
  });

  it('PutItem over an existing item: the restart appends the MODIFY once, and the retry changes nothing', async () => {
    const table = await createTable(h.ddb, 'NEW_AND_OLD_IMAGES');
    await h.doc.send(new PutCommand({ TableName: table, Item: { pk: 'o-105', v: 715 } }));
    const startedS = Math.floor(Date.now() / 1000);

    await crashDuring(h, 'dynamodb.after-write', (doc) =>
      doc.send(new PutCommand({ TableName: table, Item: { pk: 'o-105', v: 716 } })),
    );

    expect(h.server.recovered).toEqual({ appended: 1, unchanged: 0, dropped: 0, kept: 0 });
    const arn = await streamArnOf(h, table);
    const records = await readAllRecords(h.streams, arn);
    expect(changes(records)).toEqual([
      { eventName: 'INSERT', keys: { pk: { S: 'o-105' } }, old: undefined, new: item('o-105', 715) },
      { eventName: 'MODIFY', keys: { pk: { S: 'o-105' } }, old: item('o-105', 715), new: item('o-105', 716) },
    ]);
    // The reconciled record carries the time the write started, not the time of the restart.
    const created = Math.floor((records[1]?.dynamodb?.ApproximateCreationDateTime?.getTime() ?? 0) / 1000);
    expect(created).toBeGreaterThanOrEqual(startedS);
    expect(created).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));

    // The client's retry of the interrupted write is a no-op: still exactly one record holds v=716.
    await h.doc.send(new PutCommand({ TableName: table, Item: { pk: 'o-105', v: 716 } }));
    await h.doc.send(new PutCommand({ TableName: table, Item: { pk: 'o-105', v: 717 } }));
    expect(changes(await readAllRecords(h.streams, arn)).slice(1)).toEqual([
      { eventName: 'MODIFY', keys: { pk: { S: 'o-105' } }, old: item('o-105', 715), new: item('o-105', 716) },
      { eventName: 'MODIFY', keys: { pk: { S: 'o-105' } }, old: item('o-105', 716), new: item('o-105', 717) },
    ]);
  });

  it('DeleteItem: the restart appends the REMOVE with the old image', async () => {
    const table = await createTable(h.ddb, 'NEW_AND_OLD_IMAGES');
    await h.doc.send(new PutCommand({ TableName: table, Item: { pk: 'gone', v: 1 } }));

    await crashDuring(h, 'dynamodb.after-write', (doc) =>
      doc.send(new DeleteCommand({ TableName: table, Key: { pk: 'gone' } })),
    );

    expect((await h.doc.send(new GetCommand({ TableName: table, Key: { pk: 'gone' } }))).Item).toBeUndefined();
    expect(changes(await readAllRecords(h.streams, await streamArnOf(h, table)))).toEqual([
      { eventName: 'INSERT', keys: { pk: { S: 'gone' } }, old: undefined, new: item('gone', 1) },
      { eventName: 'REMOVE', keys: { pk: { S: 'gone' } }, old: item('gone', 1), new: undefined },
    ]);
  });

  it('UpdateItem on a NEW_IMAGE stream: the restart appends the MODIFY with the new image only', async () => {
    const table = await createTable(h.ddb, 'NEW_IMAGE');
    await h.doc.send(new PutCommand({ TableName: table, Item: { pk: 'u', v: 1 } }));

    await crashDuring(h, 'dynamodb.after-write', (doc) =>
      doc.send(
        new UpdateCommand({
          TableName: table,
          Key: { pk: 'u' },
          UpdateExpression: 'SET v = v + :one',
          ExpressionAttributeValues: { ':one': 1 },
        }),
      ),
    );

    expect(changes(await readAllRecords(h.streams, await streamArnOf(h, table)))).toEqual([
      { eventName: 'INSERT', keys: { pk: { S: 'u' } }, old: undefined, new: item('u', 1) },
      { eventName: 'MODIFY', keys: { pk: { S: 'u' } }, old: undefined, new: item('u', 2) },
    ]);
  });

  it('BatchWriteItem: every applied write of the batch gets its record, in request order, across tables', async () => {
    const table = await createTable(h.ddb, 'NEW_AND_OLD_IMAGES');
    const other = await createTable(h.ddb, 'KEYS_ONLY');
    const plain = await createTable(h.ddb, undefined);
    await h.doc.send(new PutCommand({ TableName: table, Item: { pk: 'a', v: 1 } }));
    await h.doc.send(new PutCommand({ TableName: table, Item: { pk: 'b', v: 1 } }));

    await crashDuring(h, 'dynamodb.after-write', (doc) =>
      doc.send(
        new BatchWriteCommand({
          RequestItems: {
            [table]: [
              { PutRequest: { Item: { pk: 'c', v: 1 } } },
              { PutRequest: { Item: { pk: 'a', v: 2 } } },
              { DeleteRequest: { Key: { pk: 'b' } } },
            ],
            [other]: [{ PutRequest: { Item: { pk: 'k', v: 1 } } }],
            [plain]: [{ PutRequest: { Item: { pk: 'p', v: 1 } } }],
          },
        }),
      ),
    );

    expect(h.server.recovered).toEqual({ appended: 4, unchanged: 0, dropped: 0, kept: 0 });
    expect(changes(await readAllRecords(h.streams, await streamArnOf(h, table))).slice(2)).toEqual([
      { eventName: 'INSERT', keys: { pk: { S: 'c' } }, old: undefined, new: item('c', 1) },
      { eventName: 'MODIFY', keys: { pk: { S: 'a' } }, old: item('a', 1), new: item('a', 2) },
      { eventName: 'REMOVE', keys: { pk: { S: 'b' } }, old: item('b', 1), new: undefined },
    ]);
    expect(changes(await readAllRecords(h.streams, await streamArnOf(h, other)))).toEqual([
      { eventName: 'INSERT', keys: { pk: { S: 'k' } }, old: undefined, new: undefined },
    ]);
  });

  it('TransactWriteItems: the applied writes get their records', async () => {
    const table = await createTable(h.ddb, 'NEW_AND_OLD_IMAGES');
    await h.doc.send(new PutCommand({ TableName: table, Item: { pk: 'x', v: 1 } }));

    await crashDuring(h, 'dynamodb.after-write', (doc) =>
      doc.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: table, Item: { pk: 'y', v: 1 }, ConditionExpression: 'attribute_not_exists(pk)' } },
            {
              Update: {
                TableName: table,
                Key: { pk: 'x' },
                UpdateExpression: 'SET v = :two',
                ExpressionAttributeValues: { ':two': 2 },
              },
            },
          ],
        }),
      ),
    );

    expect(changes(await readAllRecords(h.streams, await streamArnOf(h, table))).slice(1)).toEqual([
      { eventName: 'INSERT', keys: { pk: { S: 'y' } }, old: undefined, new: item('y', 1) },
      { eventName: 'MODIFY', keys: { pk: { S: 'x' } }, old: item('x', 1), new: item('x', 2) },
    ]);
  });

  it('a crash after the intent but before the write: no record, and the retried write streams once', async () => {
    const table = await createTable(h.ddb, 'NEW_AND_OLD_IMAGES');
    await h.doc.send(new PutCommand({ TableName: table, Item: { pk: 'n', v: 1 } }));

    await crashDuring(h, 'dynamodb.before-write', (doc) =>
      doc.send(new PutCommand({ TableName: table, Item: { pk: 'n', v: 2 } })),
    );

    expect(h.server.recovered).toEqual({ appended: 0, unchanged: 1, dropped: 0, kept: 0 });
    const arn = await streamArnOf(h, table);
    expect(await readAllRecords(h.streams, arn)).toHaveLength(1);
    await h.doc.send(new PutCommand({ TableName: table, Item: { pk: 'n', v: 2 } }));
    expect(changes(await readAllRecords(h.streams, arn)).slice(1)).toEqual([
      { eventName: 'MODIFY', keys: { pk: { S: 'n' } }, old: item('n', 1), new: item('n', 2) },
    ]);
  });

  it('a refused write (condition failed) leaves no record and no pending intent', async () => {
    const table = await createTable(h.ddb, 'NEW_AND_OLD_IMAGES');
    await h.doc.send(new PutCommand({ TableName: table, Item: { pk: 'c', v: 1 } }));
    await expect(
      h.doc.send(
        new PutCommand({ TableName: table, Item: { pk: 'c', v: 2 }, ConditionExpression: 'attribute_not_exists(pk)' }),
      ),
    ).rejects.toThrow(/conditional/i);
    expect(await readAllRecords(h.streams, await streamArnOf(h, table))).toHaveLength(1);
    const store = new StreamStore(h.streamsDbFile);
    try {
      expect(store.pendingIntents()).toEqual([]);
    } finally {
      store.close();
    }
  });
});
