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
