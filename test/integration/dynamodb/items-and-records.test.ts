import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  PutItemCommand,
  UpdateItemCommand,
  type StreamViewType,
} from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { createTable, rawCall, readAllRecords, startHarness, streamArnOf, type Harness } from './harness.js';

describe('embedded DynamoDB: item operations and the records they produce', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.dispose();
  });

  it('Put/Update/Delete/Get/Query/Scan work through lib-dynamodb, ReturnValues included', async () => {
    const table = await createTable(h.ddb, 'NEW_AND_OLD_IMAGES', { rangeKey: true });
    await h.doc.send(new PutCommand({ TableName: table, Item: { pk: 'p1', sk: 1, name: 'one', tags: ['a'] } }));
    await h.doc.send(new PutCommand({ TableName: table, Item: { pk: 'p1', sk: 2, name: 'two' } }));
    await h.doc.send(new PutCommand({ TableName: table, Item: { pk: 'p2', sk: 1, name: 'other' } }));

    const got = await h.doc.send(new GetCommand({ TableName: table, Key: { pk: 'p1', sk: 1 } }));
    expect(got.Item).toEqual({ pk: 'p1', sk: 1, name: 'one', tags: ['a'] });

    const updated = await h.doc.send(
      new UpdateCommand({
        TableName: table,
        Key: { pk: 'p1', sk: 2 },
        UpdateExpression: 'SET #n = :n, visits = if_not_exists(visits, :zero) + :one',
        ExpressionAttributeNames: { '#n': 'name' },
        ExpressionAttributeValues: { ':n': 'TWO', ':zero': 0, ':one': 1 },
        ReturnValues: 'ALL_NEW',
      }),
    );
    expect(updated.Attributes).toEqual({ pk: 'p1', sk: 2, name: 'TWO', visits: 1 });

    const query = await h.doc.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': 'p1' },
      }),
    );
    expect(query.Items?.map((item) => item['sk'])).toEqual([1, 2]);

    const deleted = await h.doc.send(
      new DeleteCommand({ TableName: table, Key: { pk: 'p2', sk: 1 }, ReturnValues: 'ALL_OLD' }),
    );
    expect(deleted.Attributes).toEqual({ pk: 'p2', sk: 1, name: 'other' });

    const scan = await h.doc.send(new ScanCommand({ TableName: table }));
    expect(scan.Count).toBe(2);

    const records = await readAllRecords(h.streams, await streamArnOf(h, table));
    expect(records.map((r) => r.eventName)).toEqual(['INSERT', 'INSERT', 'INSERT', 'MODIFY', 'REMOVE']);
    const modify = records[3];
    expect(modify?.dynamodb?.Keys).toEqual({ pk: { S: 'p1' }, sk: { N: '2' } });
    expect(modify?.dynamodb?.OldImage).toEqual({ pk: { S: 'p1' }, sk: { N: '2' }, name: { S: 'two' } });
    expect(modify?.dynamodb?.NewImage).toEqual({
      pk: { S: 'p1' },
      sk: { N: '2' },
      name: { S: 'TWO' },
      visits: { N: '1' },
    });
    const sequence = records.map((r) => BigInt(r.dynamodb?.SequenceNumber ?? '0'));
    expect([...sequence].sort((a, b) => (a < b ? -1 : 1))).toEqual(sequence);
    expect(new Set(sequence).size).toBe(sequence.length);
  });

  it('a failed condition raises ConditionalCheckFailedException and emits no record', async () => {
    const table = await createTable(h.ddb, 'NEW_AND_OLD_IMAGES');
    await h.doc.send(new PutCommand({ TableName: table, Item: { pk: 'a', v: 1 } }));
    await expect(
      h.doc.send(
        new PutCommand({ TableName: table, Item: { pk: 'a', v: 2 }, ConditionExpression: 'attribute_not_exists(pk)' }),
      ),
    ).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    await expect(
      h.doc.send(
        new UpdateCommand({
          TableName: table,
          Key: { pk: 'a' },
          UpdateExpression: 'SET v = :v',
          ConditionExpression: 'v = :expected',
          ExpressionAttributeValues: { ':v': 3, ':expected': 99 },
        }),
      ),
    ).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    await expect(
      h.doc.send(
        new DeleteCommand({ TableName: table, Key: { pk: 'a' }, ConditionExpression: 'attribute_not_exists(pk)' }),
      ),
    ).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    // ReturnValuesOnConditionCheckFailure ALL_OLD: the exception carries the item, for each single-item write.
    for (const table_ of [table, await createTable(h.ddb, undefined)]) {
      if (table_ !== table) await h.doc.send(new PutCommand({ TableName: table_, Item: { pk: 'a', v: 1 } }));
      const failures = await Promise.allSettled([
        h.ddb.send(
          new PutItemCommand({
            TableName: table_,
            Item: { pk: { S: 'a' }, v: { N: '2' } },
            ConditionExpression: 'attribute_not_exists(pk)',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
        h.doc.send(
          new DeleteCommand({
            TableName: table_,
            Key: { pk: 'a' },
            ConditionExpression: 'v = :nine',
            ExpressionAttributeValues: { ':nine': 9 },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      ]);
      for (const failure of failures) {
        expect(failure.status).toBe('rejected');
        const reason = (failure as PromiseRejectedResult).reason as ConditionalCheckFailedException;
        expect(reason).toBeInstanceOf(ConditionalCheckFailedException);
        expect(reason.Item).toEqual({ pk: { S: 'a' }, v: { N: '1' } });
      }
    }
    // A passing condition still writes and records.
    await h.doc.send(
      new PutCommand({ TableName: table, Item: { pk: 'b', v: 1 }, ConditionExpression: 'attribute_not_exists(pk)' }),
    );

    const records = await readAllRecords(h.streams, await streamArnOf(h, table));
    expect(records.map((r) => [r.eventName, r.dynamodb?.Keys?.['pk']?.S])).toEqual([
      ['INSERT', 'a'],
      ['INSERT', 'b'],
    ]);
    expect((await h.doc.send(new GetCommand({ TableName: table, Key: { pk: 'a' } }))).Item).toEqual({ pk: 'a', v: 1 });
  });

  it('dynalite errors pass through unchanged (validation error on a bad key)', async () => {
    const table = await createTable(h.ddb, 'KEYS_ONLY');
    await expect(
      h.ddb.send(new PutItemCommand({ TableName: table, Item: { other: { S: 'x' } } })),
    ).rejects.toMatchObject({
      name: 'ValidationException',
    });
    expect(await readAllRecords(h.streams, await streamArnOf(h, table))).toEqual([]);
  });

  it('a write that changes nothing emits no record', async () => {
    const table = await createTable(h.ddb, 'NEW_AND_OLD_IMAGES');
    await h.doc.send(new PutCommand({ TableName: table, Item: { pk: 'same', a: 1, m: { x: 'y', z: [1, 2] } } }));
    // Same item again, attributes in another order.
    await h.doc.send(new PutCommand({ TableName: table, Item: { m: { z: [1, 2], x: 'y' }, a: 1, pk: 'same' } }));
    await h.doc.send(
      new UpdateCommand({
        TableName: table,
        Key: { pk: 'same' },
        UpdateExpression: 'SET a = :a',
        ExpressionAttributeValues: { ':a': 1 },
      }),
    );
    await h.doc.send(new DeleteCommand({ TableName: table, Key: { pk: 'never-existed' } }));
    // The same sets in another order are the same item (DynamoDB keeps no order in a set).
    const sets = (ss: string[], ns: string[]) => ({ pk: { S: 'sets' }, ss: { SS: ss }, ns: { NS: ns } });
    await h.ddb.send(new PutItemCommand({ TableName: table, Item: sets(['a', 'b', 'c'], ['1', '2', '10']) }));
    await h.ddb.send(new PutItemCommand({ TableName: table, Item: sets(['c', 'a', 'b'], ['10', '1', '2']) }));
    const records = await readAllRecords(h.streams, await streamArnOf(h, table));
    expect(records.map((r) => r.eventName)).toEqual(['INSERT', 'INSERT']);
  });

  it('BatchWriteItem puts and deletes produce one record each', async () => {
    const table = await createTable(h.ddb, 'NEW_AND_OLD_IMAGES');
    const plain = await createTable(h.ddb, undefined);
    await h.doc.send(new PutCommand({ TableName: table, Item: { pk: 'gone', v: 1 } }));
    await h.doc.send(
      new BatchWriteCommand({
        RequestItems: {
          [table]: [
            { PutRequest: { Item: { pk: 'x', v: 1 } } },
            { PutRequest: { Item: { pk: 'y', v: 2 } } },
            { DeleteRequest: { Key: { pk: 'gone' } } },
          ],
          [plain]: [{ PutRequest: { Item: { pk: 'z' } } }],
        },
      }),
    );
    expect((await h.doc.send(new GetCommand({ TableName: plain, Key: { pk: 'z' } }))).Item).toEqual({ pk: 'z' });
    const records = await readAllRecords(h.streams, await streamArnOf(h, table));
    expect(records.map((r) => [r.eventName, r.dynamodb?.Keys?.['pk']?.S])).toEqual([
      ['INSERT', 'gone'],
      ['INSERT', 'x'],
      ['INSERT', 'y'],
      ['REMOVE', 'gone'],
    ]);
    expect(records[3]?.dynamodb?.OldImage).toEqual({ pk: { S: 'gone' }, v: { N: '1' } });
    expect(records[3]?.dynamodb?.NewImage).toBeUndefined();

    // The low-level client works too.
    await h.ddb.send(
      new BatchWriteItemCommand({ RequestItems: { [table]: [{ DeleteRequest: { Key: { pk: { S: 'x' } } } }] } }),
    );
    expect((await readAllRecords(h.streams, await streamArnOf(h, table))).at(-1)?.eventName).toBe('REMOVE');
  });

  const IMAGES: Record<StreamViewType, { newImage: boolean; oldImage: boolean }> = {
    KEYS_ONLY: { newImage: false, oldImage: false },
    NEW_IMAGE: { newImage: true, oldImage: false },
    OLD_IMAGE: { newImage: false, oldImage: true },
    NEW_AND_OLD_IMAGES: { newImage: true, oldImage: true },
  };

  it.each(Object.keys(IMAGES) as StreamViewType[])(
    '%s records carry the AWS shape and the right images',
    async (viewType) => {
      const table = await createTable(h.ddb, viewType);
      const arn = await streamArnOf(h, table);
      await h.doc.send(new PutCommand({ TableName: table, Item: { pk: 'k', v: 1 } }));
      await h.doc.send(
        new UpdateCommand({
          TableName: table,
          Key: { pk: 'k' },
          UpdateExpression: 'SET v = :v',
          ExpressionAttributeValues: { ':v': 2 },
        }),
      );
      await h.doc.send(new DeleteCommand({ TableName: table, Key: { pk: 'k' } }));

      // The wire JSON, as a Pipe or a raw consumer sees it.
      const shardId = (await rawCall(h.server.endpoint, 'DynamoDBStreams_20120810.DescribeStream', { StreamArn: arn }))
        .body as {
        StreamDescription: { Shards: Array<{ ShardId: string }> };
      };
      const iterator = await rawCall(h.server.endpoint, 'DynamoDBStreams_20120810.GetShardIterator', {
        StreamArn: arn,
        ShardId: shardId.StreamDescription.Shards[0]?.ShardId,
        ShardIteratorType: 'TRIM_HORIZON',
      });
      const page = await rawCall(h.server.endpoint, 'DynamoDBStreams_20120810.GetRecords', {
        ShardIterator: iterator.body['ShardIterator'],
      });
      const records = page.body['Records'] as Array<Record<string, unknown> & { dynamodb: Record<string, unknown> }>;
      expect(records.map((r) => r['eventName'])).toEqual(['INSERT', 'MODIFY', 'REMOVE']);

      const images = IMAGES[viewType];
      const expectedNew = [{ pk: { S: 'k' }, v: { N: '1' } }, { pk: { S: 'k' }, v: { N: '2' } }, undefined];
      const expectedOld = [undefined, { pk: { S: 'k' }, v: { N: '1' } }, { pk: { S: 'k' }, v: { N: '2' } }];
      records.forEach((record, index) => {
        expect(Object.keys(record).sort()).toEqual([
          'awsRegion',
          'dynamodb',
          'eventID',
          'eventName',
          'eventSource',
          'eventSourceARN',
          'eventVersion',
        ]);
        expect(record['eventID']).toMatch(/^[0-9a-f]{32}$/);
        expect(record['eventVersion']).toBe('1.1');
        expect(record['eventSource']).toBe('aws:dynamodb');
        expect(record['awsRegion']).toBe('us-east-1');
        expect(record['eventSourceARN']).toBe(arn);
        const data = record.dynamodb;
        expect(typeof data['ApproximateCreationDateTime']).toBe('number');
        expect(Number.isInteger(data['ApproximateCreationDateTime'])).toBe(true);
        expect(Math.abs((data['ApproximateCreationDateTime'] as number) - Date.now() / 1000)).toBeLessThan(600);
        expect(data['Keys']).toEqual({ pk: { S: 'k' } });
        expect(data['SequenceNumber']).toMatch(/^\d{21,}$/);
        expect(data['SizeBytes']).toBeGreaterThan(0);
        expect(data['StreamViewType']).toBe(viewType);
        expect(data['NewImage']).toEqual(images.newImage ? expectedNew[index] : undefined);
        expect(data['OldImage']).toEqual(images.oldImage ? expectedOld[index] : undefined);
      });
    },
  );

  it('onRecords wakes listeners with the table name, and unsubscribes', async () => {
    const table = await createTable(h.ddb, 'KEYS_ONLY');
    const plain = await createTable(h.ddb, undefined);
    const seen: string[] = [];
    const stop = h.server.onRecords((name) => seen.push(name));
    await h.doc.send(new PutCommand({ TableName: table, Item: { pk: '1' } }));
    await h.doc.send(new PutCommand({ TableName: plain, Item: { pk: '1' } }));
    await h.doc.send(new PutCommand({ TableName: table, Item: { pk: '1' } })); // no-op: no wake-up
    stop();
    await h.doc.send(new PutCommand({ TableName: table, Item: { pk: '2' } }));
    expect(seen).toEqual([table]);
  });

  it('a listener that throws does not fail the write', async () => {
    const table = await createTable(h.ddb, 'KEYS_ONLY');
    const stop = h.server.onRecords(() => {
      throw new Error('listener bug');
    });
    await expect(h.doc.send(new PutCommand({ TableName: table, Item: { pk: '1' } }))).resolves.toBeDefined();
    stop();
  });

  it('UpdateItem on a low-level client with ReturnValues UPDATED_OLD still answers as dynalite does', async () => {
    const table = await createTable(h.ddb, 'NEW_IMAGE');
    await h.ddb.send(new PutItemCommand({ TableName: table, Item: { pk: { S: 'r' }, n: { N: '5' } } }));
    const result = await h.ddb.send(
      new UpdateItemCommand({
        TableName: table,
        Key: { pk: { S: 'r' } },
        UpdateExpression: 'ADD n :d',
        ExpressionAttributeValues: { ':d': { N: '2' } },
        ReturnValues: 'UPDATED_OLD',
      }),
    );
    expect(result.Attributes).toEqual({ n: { N: '5' } });
    const records = await readAllRecords(h.streams, await streamArnOf(h, table));
    expect(records.at(-1)?.dynamodb?.NewImage).toEqual({ pk: { S: 'r' }, n: { N: '7' } });
  });
});
