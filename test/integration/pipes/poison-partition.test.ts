import { readdir, readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorSink } from '../../../src/lake/error-sink.js';
import { PartitionedNdjsonWriter } from '../../../src/lake/partitioned-ndjson-writer.js';
import { DirectoryObjectStore } from '../../../src/local/object-store/directory-object-store.js';
import { ChangeLakeTarget } from '../../../src/pipes/change-lake-target.js';
import { CheckpointStore } from '../../../src/pipes/checkpoint-store.js';
import { DynamoDbStreamSource } from '../../../src/pipes/dynamodb-stream-source.js';
import { PipeRunner } from '../../../src/pipes/pipe-runner.js';
import { createTable, startHarness, type Harness } from '../dynamodb/harness.js';

async function files(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)))
    .sort();
}

const linesOf = async (path: string) =>
  gunzipSync(await readFile(path))
    .toString('utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('a poison partition attribute through the real SDK, stream and lake directory', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness();
  });
  afterAll(async () => {
    await harness.dispose();
  });

  it('goes to _errors with the reason; the other records land and the checkpoint moves past it', async () => {
    const table = await createTable(harness.ddb, 'NEW_AND_OLD_IMAGES');
    for (const [pk, siteId] of [
      ['a', 'north'],
      ['poison', 'S'.repeat(2048)],
      ['b', 'south'],
    ])
      await harness.doc.send(new PutCommand({ TableName: table, Item: { pk, siteId } }));

    const lakeDir = join(harness.dir, 'lake');
    const lake = new DirectoryObjectStore(lakeDir);
    const errors = new ErrorSink({ store: lake, pipeline: 'visits-pipe' });
    const checkpoints = new CheckpointStore(join(harness.dir, 'pipes.sqlite'));
    const log: string[] = [];
    try {
      const runner = new PipeRunner(
        {
          name: 'visits-pipe',
          source: new DynamoDbStreamSource({ table, dynamodb: harness.ddb, streams: harness.streams }),
          target: new ChangeLakeTarget({
            table: { name: table, partitionKey: 'pk', pipe: { partitionBy: ['siteId'] } } as never,
            writer: new PartitionedNdjsonWriter({ store: lake, maxBytes: 1 << 20 }),
            errors,
            flushSeconds: 60,
          }),
          batchSize: 100,
          errors,
        },
        checkpoints,
        { owner: `sync:${hostname()}:${process.pid}`, retryBackoffMs: 0, log: (line) => log.push(line) },
      );
      const stats = await runner.drain();
      await runner.close();

      expect(stats).toMatchObject({ read: 3, delivered: 3, rejected: 1 });
      const all = await files(lakeDir);
      const changes = all.filter((file) => file.startsWith('changes/'));
      expect(changes.map((file) => file.split('/')[2])).toEqual(['siteId=north', 'siteId=south']);
      const [errorFile, ...more] = all.filter((file) => file.startsWith('_errors/visits-pipe/'));
      expect(more).toEqual([]);
      const [entry] = await linesOf(join(lakeDir, errorFile!));
      expect(entry).toMatchObject({
        errorType: 'InvalidPartitionAttribute',
        reason: 'partition attribute siteId: encoded value is 2048 bytes, over the 200-byte limit of a partition value',
        record: { dynamodb: { Keys: { pk: { S: 'poison' } } } },
      });
      // The checkpoint is at the last record: nothing is read again.
      const again = await new PipeRunner(runner.pipe, checkpoints, {
        owner: `sync:${hostname()}:${process.pid}`,
      }).drain();
      expect(again.read).toBe(0);
      expect(log).toEqual([
        'pipe visits-pipe: 1 record rejected (InvalidPartitionAttribute), see _errors/visits-pipe/',
      ]);
    } finally {
      checkpoints.close();
    }
  });
});
