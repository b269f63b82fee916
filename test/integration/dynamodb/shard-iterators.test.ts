import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DescribeTableCommand, UpdateTableCommand } from '@aws-sdk/client-dynamodb';
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  ResourceNotFoundException,
  type ShardIteratorType,
} from '@aws-sdk/client-dynamodb-streams';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { createTable, readAllRecords, shardIdOf, startHarness, type Harness } from './harness.js';

describe('embedded DynamoDB Streams: shard iterators and GetRecords', () => {
  let h: Harness;
  let table: string;
  let streamArn: string;
  let shardId: string;
  let sequenceNumbers: string[];

  async function iterator(type: ShardIteratorType, sequenceNumber?: string): Promise<string> {
    const answer = await h.streams.send(
      new GetShardIteratorCommand({
        StreamArn: streamArn,
        ShardId: shardId,
        ShardIteratorType: type,
        SequenceNumber: sequenceNumber,
      }),
    );
    if (!answer.ShardIterator) throw new Error('no iterator');
    return answer.ShardIterator;
  }

  async function keysFrom(shardIterator: string, limit?: number): Promise<{ keys: string[]; next?: string }> {
    const page = await h.streams.send(new GetRecordsCommand({ ShardIterator: shardIterator, Limit: limit }));
    return { keys: (page.Records ?? []).map((r) => r.dynamodb?.Keys?.['pk']?.S ?? ''), next: page.NextShardIterator };
  }

  beforeAll(async () => {
    h = await startHarness();
    table = await createTable(h.ddb, 'NEW_IMAGE');
    streamArn = (await h.ddb.send(new DescribeTableCommand({ TableName: table }))).Table?.LatestStreamArn ?? '';
    shardId = await shardIdOf(h.streams, streamArn);
    for (const pk of ['a', 'b', 'c', 'd', 'e']) await h.doc.send(new PutCommand({ TableName: table, Item: { pk } }));
    sequenceNumbers = (await readAllRecords(h.streams, streamArn)).map((r) => r.dynamodb?.SequenceNumber ?? '');
  });
  afterAll(async () => {
    await h.dispose();
  });

  it('TRIM_HORIZON starts at the oldest record', async () => {
    expect((await keysFrom(await iterator('TRIM_HORIZON'))).keys).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('AT_SEQUENCE_NUMBER includes the record, AFTER_SEQUENCE_NUMBER skips it', async () => {
    const third = sequenceNumbers[2];
    expect((await keysFrom(await iterator('AT_SEQUENCE_NUMBER', third))).keys).toEqual(['c', 'd', 'e']);
    expect((await keysFrom(await iterator('AFTER_SEQUENCE_NUMBER', third))).keys).toEqual(['d', 'e']);
  });

  it('LATEST sees only records written after the iterator was taken, and NextShardIterator continues', async () => {
    const latest = await iterator('LATEST');
    const empty = await keysFrom(latest);
    expect(empty.keys).toEqual([]);
    expect(empty.next).toBeTruthy();
    await h.doc.send(new PutCommand({ TableName: table, Item: { pk: 'f' } }));
    const page = await keysFrom(empty.next ?? '');
    expect(page.keys).toEqual(['f']);
    // The old iterator still reads from its position: iterators are positions, not cursors.
    expect((await keysFrom(latest)).keys).toEqual(['f']);
    const after = await keysFrom(page.next ?? '');
    expect(after.keys).toEqual([]);
    expect(after.next).toBeTruthy();
  });

  it('GetRecords pages with Limit and always gives a NextShardIterator on an open shard', async () => {
    let shardIterator: string | undefined = await iterator('TRIM_HORIZON');
    const pages: string[][] = [];
    for (let i = 0; i < 5 && shardIterator; i++) {
      const page = await keysFrom(shardIterator, 2);
      pages.push(page.keys);
      expect(page.next).toBeTruthy();
      shardIterator = page.next;
    }
    expect(pages).toEqual([['a', 'b'], ['c', 'd'], ['e', 'f'], [], []]);
  });

  it('Limit above 1000 and bad sequence numbers are ValidationExceptions; unknown shards are ResourceNotFound', async () => {
    await expect(
      h.streams.send(new GetRecordsCommand({ ShardIterator: await iterator('TRIM_HORIZON'), Limit: 1001 })),
    ).rejects.toMatchObject({
      name: 'ValidationException',
    });
    await expect(iterator('AT_SEQUENCE_NUMBER', '12')).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(iterator('AFTER_SEQUENCE_NUMBER')).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(
      h.streams.send(
        new GetShardIteratorCommand({
          StreamArn: streamArn,
          ShardId: 'shardId-00000000000000000000-00000000',
          ShardIteratorType: 'LATEST',
        }),
      ),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(h.streams.send(new GetRecordsCommand({ ShardIterator: 'garbage' }))).rejects.toMatchObject({
      name: 'ValidationException',
    });
  });

  it('a disabled stream keeps its records; reading its closed shard to the end ends the iterator chain', async () => {
    const closing = await createTable(h.ddb, 'KEYS_ONLY');
    const arn = (await h.ddb.send(new DescribeTableCommand({ TableName: closing }))).Table?.LatestStreamArn ?? '';
    await h.doc.send(new PutCommand({ TableName: closing, Item: { pk: '1' } }));
    await h.doc.send(new PutCommand({ TableName: closing, Item: { pk: '2' } }));
    await h.ddb.send(new UpdateTableCommand({ TableName: closing, StreamSpecification: { StreamEnabled: false } }));
    await h.doc.send(new PutCommand({ TableName: closing, Item: { pk: '3' } })); // not recorded: stream off

    const shard = await shardIdOf(h.streams, arn);
    const start = await h.streams.send(
      new GetShardIteratorCommand({ StreamArn: arn, ShardId: shard, ShardIteratorType: 'TRIM_HORIZON' }),
    );
    const first = await h.streams.send(new GetRecordsCommand({ ShardIterator: start.ShardIterator, Limit: 1 }));
    expect(first.Records?.map((r) => r.dynamodb?.Keys?.['pk']?.S)).toEqual(['1']);
    expect(first.NextShardIterator).toBeTruthy();
    const last = await h.streams.send(new GetRecordsCommand({ ShardIterator: first.NextShardIterator, Limit: 1 }));
    expect(last.Records?.map((r) => r.dynamodb?.Keys?.['pk']?.S)).toEqual(['2']);
    expect(last.NextShardIterator).toBeUndefined();
  });
});
