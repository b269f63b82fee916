import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DescribeTableCommand, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ListStreamsCommand } from '@aws-sdk/client-dynamodb-streams';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { DataDirInUseError, startEmbeddedDynamoDb } from '../../../src/local/dynamodb/index.js';
import { createTable, readAllRecords, startHarness, type Harness } from './harness.js';

describe('embedded DynamoDB: persistence across restarts', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.dispose();
  });

  it('keeps tables, items, stream metadata and records; sequence numbers keep growing', async () => {
    const table = await createTable(h.ddb, 'NEW_AND_OLD_IMAGES');
    const plain = await createTable(h.ddb, undefined);
    await h.doc.send(new PutCommand({ TableName: table, Item: { pk: 'a', v: 1 } }));
    await h.doc.send(new PutCommand({ TableName: table, Item: { pk: 'a', v: 2 } }));
    await h.doc.send(new PutCommand({ TableName: plain, Item: { pk: 'p' } }));
    const arn = (await h.ddb.send(new DescribeTableCommand({ TableName: table }))).Table?.LatestStreamArn ?? '';
    const before = await readAllRecords(h.streams, arn);
    const oldEndpoint = h.server.endpoint;

    await h.restart();
    expect(h.server.endpoint).not.toBe('');
    expect(oldEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    expect((await h.ddb.send(new ListTablesCommand({}))).TableNames).toEqual(expect.arrayContaining([table, plain]));
    const described = (await h.ddb.send(new DescribeTableCommand({ TableName: table }))).Table;
    expect(described?.LatestStreamArn).toBe(arn);
    expect(described?.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' });
    expect((await h.doc.send(new GetCommand({ TableName: table, Key: { pk: 'a' } }))).Item).toEqual({ pk: 'a', v: 2 });
    expect((await h.doc.send(new GetCommand({ TableName: plain, Key: { pk: 'p' } }))).Item).toEqual({ pk: 'p' });
    expect(
      (await h.streams.send(new ListStreamsCommand({ TableName: table }))).Streams?.map((s) => s.StreamArn),
    ).toEqual([arn]);
    expect(await readAllRecords(h.streams, arn)).toEqual(before);

    // Writes after the restart still stream, with higher sequence numbers and the right old image.
    await h.doc.send(new PutCommand({ TableName: table, Item: { pk: 'a', v: 3 } }));
    const after = await readAllRecords(h.streams, arn);
    expect(after).toHaveLength(3);
    const last = after[2];
    expect(last?.eventName).toBe('MODIFY');
    expect(last?.dynamodb?.OldImage).toEqual({ pk: { S: 'a' }, v: { N: '2' } });
    expect(BigInt(last?.dynamodb?.SequenceNumber ?? '0')).toBeGreaterThan(
      BigInt(before[1]?.dynamodb?.SequenceNumber ?? '0'),
    );
  });

  it('close() is idempotent and frees the port', async () => {
    const endpoint = h.server.endpoint;
    await h.server.close();
    await h.server.close();
    await expect(fetch(endpoint)).rejects.toThrow();
    await h.restart(); // the harness' dispose closes again
  });

  it('a second endpoint on the same data dir fails to start, and the first keeps working', async () => {
    await expect(startEmbeddedDynamoDb({ dataDir: h.dataDir, streamsDbFile: h.streamsDbFile })).rejects.toBeInstanceOf(
      DataDirInUseError,
    );
    expect((await h.ddb.send(new ListTablesCommand({}))).TableNames?.length).toBeGreaterThan(0);
  });
});
