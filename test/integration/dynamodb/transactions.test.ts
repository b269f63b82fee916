import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DescribeTableCommand, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, TransactGetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { createTable, readAllRecords, startHarness, type Harness } from './harness.js';

describe('embedded DynamoDB: emulated transactions', () => {
  let h: Harness;
  let streamed: string;
  let plain: string;
  let streamArn: string;

  beforeAll(async () => {
    h = await startHarness();
    streamed = await createTable(h.ddb, 'NEW_AND_OLD_IMAGES');
    plain = await createTable(h.ddb, undefined);
    streamArn = (await h.ddb.send(new DescribeTableCommand({ TableName: streamed }))).Table?.LatestStreamArn ?? '';
  });
  afterAll(async () => {
    await h.dispose();
  });

  it('applies every action of a passing transaction and records each change', async () => {
    await h.doc.send(new PutCommand({ TableName: streamed, Item: { pk: 'old', v: 1 } }));
    await h.doc.send(new PutCommand({ TableName: plain, Item: { pk: 'lock', state: 'FREE' } }));
    await h.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            ConditionCheck: {
              TableName: plain,
              Key: { pk: 'lock' },
              ConditionExpression: '#s = :free',
              ExpressionAttributeNames: { '#s': 'state' },
              ExpressionAttributeValues: { ':free': 'FREE' },
            },
          },
          { Put: { TableName: streamed, Item: { pk: 'new', v: 1 }, ConditionExpression: 'attribute_not_exists(pk)' } },
          {
            Update: {
              TableName: streamed,
              Key: { pk: 'old' },
              UpdateExpression: 'SET v = v + :one',
              ConditionExpression: 'v = :expected',
              ExpressionAttributeValues: { ':one': 1, ':expected': 1 },
            },
          },
          { Delete: { TableName: plain, Key: { pk: 'gone' } } },
        ],
      }),
    );
    expect((await h.doc.send(new GetCommand({ TableName: streamed, Key: { pk: 'old' } }))).Item).toEqual({
      pk: 'old',
      v: 2,
    });
    expect((await h.doc.send(new GetCommand({ TableName: streamed, Key: { pk: 'new' } }))).Item).toEqual({
      pk: 'new',
      v: 1,
    });
    const records = await readAllRecords(h.streams, streamArn);
    expect(records.map((r) => [r.eventName, r.dynamodb?.Keys?.['pk']?.S])).toEqual([
      ['INSERT', 'old'],
      ['INSERT', 'new'],
      ['MODIFY', 'old'],
    ]);
  });

  it('a failed condition cancels the whole transaction with per-item reasons and no record', async () => {
    const before = (await readAllRecords(h.streams, streamArn)).length;
    const attempt = h.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: streamed, Item: { pk: 'never', v: 1 } } },
          {
            ConditionCheck: {
              TableName: plain,
              Key: { pk: 'lock' },
              ConditionExpression: '#s = :busy',
              ExpressionAttributeNames: { '#s': 'state' },
              ExpressionAttributeValues: { ':busy': 'BUSY' },
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
          },
        ],
      }),
    );
    const error = await attempt.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransactionCanceledException);
    expect((error as TransactionCanceledException).CancellationReasons?.map((r) => r.Code)).toEqual([
      'None',
      'ConditionalCheckFailed',
    ]);
    expect((error as TransactionCanceledException).CancellationReasons?.[1]?.Item).toEqual({
      pk: { S: 'lock' },
      state: { S: 'FREE' },
    });
    expect((await h.doc.send(new GetCommand({ TableName: streamed, Key: { pk: 'never' } }))).Item).toBeUndefined();
    expect((await h.doc.send(new GetCommand({ TableName: plain, Key: { pk: 'lock' } }))).Item).toEqual({
      pk: 'lock',
      state: 'FREE',
    });
    expect(await readAllRecords(h.streams, streamArn)).toHaveLength(before);
  });

  it('rejects two actions on one item', async () => {
    await expect(
      h.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: streamed, Item: { pk: 'dup' } } },
            { Delete: { TableName: streamed, Key: { pk: 'dup' } } },
          ],
        }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationException' });
  });

  it('rolls back applied writes when a later write fails', async () => {
    const before = (await readAllRecords(h.streams, streamArn)).length;
    await expect(
      h.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: streamed, Item: { pk: 'rolled-back', v: 1 } } },
            // Arithmetic on a missing attribute: passes the (absent) condition, fails on apply.
            {
              Update: {
                TableName: streamed,
                Key: { pk: 'old' },
                UpdateExpression: 'SET v = missing + :one',
                ExpressionAttributeValues: { ':one': 1 },
              },
            },
          ],
        }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationException' });
    expect(
      (await h.doc.send(new GetCommand({ TableName: streamed, Key: { pk: 'rolled-back' } }))).Item,
    ).toBeUndefined();
    expect(await readAllRecords(h.streams, streamArn)).toHaveLength(before);
  });

  it('ClientRequestToken makes a transaction idempotent: a resend writes nothing; other items with it are refused', async () => {
    await h.doc.send(new PutCommand({ TableName: streamed, Item: { pk: 'counter', n: 0 } }));
    const before = (await readAllRecords(h.streams, streamArn)).length;
    const increment = (token: string, pk = 'counter') =>
      new TransactWriteCommand({
        ClientRequestToken: token,
        TransactItems: [
          {
            Update: {
              TableName: streamed,
              Key: { pk },
              UpdateExpression: 'ADD n :one',
              ExpressionAttributeValues: { ':one': 1 },
            },
          },
        ],
      });
    await h.doc.send(increment('token-1'));
    await h.doc.send(increment('token-1')); // as the SDK resends after a timeout
    expect((await h.doc.send(new GetCommand({ TableName: streamed, Key: { pk: 'counter' } }))).Item).toEqual({
      pk: 'counter',
      n: 1,
    });
    await expect(h.doc.send(increment('token-1', 'other'))).rejects.toMatchObject({
      name: 'IdempotentParameterMismatchException',
    });
    await h.doc.send(increment('token-2'));
    expect((await h.doc.send(new GetCommand({ TableName: streamed, Key: { pk: 'counter' } }))).Item?.['n']).toBe(2);
    const records = (await readAllRecords(h.streams, streamArn)).slice(before);
    expect(records.map((r) => [r.eventName, r.dynamodb?.NewImage?.['n']?.N])).toEqual([
      ['MODIFY', '1'],
      ['MODIFY', '2'],
    ]);
  });

  it('GetItem never sees a transaction half-applied', async () => {
    const keys = Array.from({ length: 100 }, (_, i) => `iso-${i}`);
    const roundOf = async (pk: string) =>
      Number((await h.doc.send(new GetCommand({ TableName: plain, Key: { pk } }))).Item?.['round'] ?? 0);
    let stop = false;
    const torn: string[] = [];
    let reads = 0;
    const reader = (async () => {
      while (!stop) {
        // The transaction writes iso-0 first and iso-99 last. Read iso-0, then iso-99: once iso-0 shows round r,
        // round r is committed, so iso-99 read afterwards shows r or later — unless the read saw it half-applied.
        const first = await roundOf(keys[0]!);
        const last = await roundOf(keys[99]!);
        reads += 1;
        if (last < first) torn.push(`${first}/${last}`);
      }
    })();
    for (let round = 1; round <= 6; round += 1)
      await h.doc.send(
        new TransactWriteCommand({
          TransactItems: keys.map((pk) => ({ Put: { TableName: plain, Item: { pk, round } } })),
        }),
      );
    stop = true;
    await reader;
    expect(torn).toEqual([]);
    expect(reads).toBeGreaterThan(0);
  });

  it('TransactGetItems reads several items', async () => {
    const result = await h.doc.send(
      new TransactGetCommand({
        TransactItems: [
          { Get: { TableName: streamed, Key: { pk: 'old' } } },
          { Get: { TableName: plain, Key: { pk: 'absent' } } },
        ],
      }),
    );
    expect(result.Responses).toEqual([{ Item: { pk: 'old', v: 2 } }, {}]);
  });
});
