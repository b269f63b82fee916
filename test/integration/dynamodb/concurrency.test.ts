import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { createTable, readAllRecords, startHarness, type Harness } from './harness.js';

describe('embedded DynamoDB: concurrent writes to one table', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.dispose();
  });

  it('parallel increments of one item produce a gap-free old/new image chain', async () => {
    const table = await createTable(h.ddb, 'NEW_AND_OLD_IMAGES');
    const writes = 60;
    await Promise.all(
      Array.from({ length: writes }, () =>
        h.doc.send(
          new UpdateCommand({
            TableName: table,
            Key: { pk: 'counter' },
            UpdateExpression: 'ADD n :one',
            ExpressionAttributeValues: { ':one': 1 },
          }),
        ),
      ),
    );
    expect((await h.doc.send(new GetCommand({ TableName: table, Key: { pk: 'counter' } }))).Item).toEqual({
      pk: 'counter',
      n: writes,
    });

    const arn = (await h.ddb.send(new DescribeTableCommand({ TableName: table }))).Table?.LatestStreamArn ?? '';
    const records = await readAllRecords(h.streams, arn, 7);
    expect(records).toHaveLength(writes);
    records.forEach((record, index) => {
      expect(record.eventName).toBe(index === 0 ? 'INSERT' : 'MODIFY');
      expect(record.dynamodb?.NewImage?.['n']?.N).toBe(String(index + 1));
      expect(record.dynamodb?.OldImage?.['n']?.N).toBe(index === 0 ? undefined : String(index));
    });
  });

  it('parallel puts, batch writes and updates across keys: every image chain per key is consistent', async () => {
    const table = await createTable(h.ddb, 'NEW_AND_OLD_IMAGES');
    const keys = ['k0', 'k1', 'k2', 'k3'];
    const tasks: Array<Promise<unknown>> = [];
    for (let round = 0; round < 10; round++) {
      for (const pk of keys) {
        tasks.push(h.doc.send(new PutCommand({ TableName: table, Item: { pk, round, by: 'put' } })));
        tasks.push(
          h.doc.send(
            new UpdateCommand({
              TableName: table,
              Key: { pk },
              UpdateExpression: 'ADD hits :one',
              ExpressionAttributeValues: { ':one': 1 },
            }),
          ),
        );
      }
      tasks.push(
        h.doc.send(
          new BatchWriteCommand({
            RequestItems: { [table]: keys.map((pk) => ({ PutRequest: { Item: { pk, round, by: 'batch' } } })) },
          }),
        ),
      );
    }
    await Promise.all(tasks);

    const arn = (await h.ddb.send(new DescribeTableCommand({ TableName: table }))).Table?.LatestStreamArn ?? '';
    const records = await readAllRecords(h.streams, arn);
    for (const pk of keys) {
      const chain = records.filter((r) => r.dynamodb?.Keys?.['pk']?.S === pk);
      expect(chain[0]?.eventName).toBe('INSERT');
      for (let i = 1; i < chain.length; i++) {
        // Each record's old image is exactly the previous record's new image.
        expect(chain[i]?.dynamodb?.OldImage).toEqual(chain[i - 1]?.dynamodb?.NewImage);
      }
      const current = (await h.doc.send(new GetCommand({ TableName: table, Key: { pk } }))).Item;
      const lastImage = chain.at(-1)?.dynamodb?.NewImage;
      expect(lastImage?.['pk']?.S).toBe(current?.['pk']);
      expect(lastImage?.['by']?.S).toBe(current?.['by']);
    }
    const sequence = records.map((r) => BigInt(r.dynamodb?.SequenceNumber ?? '0'));
    expect(sequence.every((value, index) => index === 0 || value > (sequence[index - 1] ?? 0n))).toBe(true);
  });
});
