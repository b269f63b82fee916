import { NumberValue, PutCommand, UpdateCommand, DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueExampleConfig } from '../fixtures/issue-example-config.js';
import { localDocumentClient, queryJson, runCli, startUp, tempDir } from './cli-harness.js';

const config = issueExampleConfig;

describe('change stream end to end through the CLI', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let configFile: string;

  beforeAll(async () => {
    dir = await tempDir('e2e-changes');
    configFile = join(dir.path, 'tributary.config.json');
    await writeFile(configFile, JSON.stringify(config));
  });
  afterAll(async () => dir.cleanup());

  it('lands SDK writes as partitioned change records that `query` can read', async () => {
    const state = join(dir.path, 'state');
    const big = '12345678901234567890123456789012345678';
    const up = await startUp(state, ['--config', configFile]);
    try {
      const client = localDocumentClient(up.endpoints.dynamodb);
      await client.send(
        new PutCommand({
          TableName: 'visits',
          Item: {
            id: 'a',
            siteId: '2',
            name: 'n',
            valueOne: 1,
            valueTwo: NumberValue.from(big),
            createdAtTime: Date.UTC(2024, 2, 5, 7),
          },
        }),
      );
      await client.send(
        new PutCommand({
          TableName: 'visits',
          Item: { id: 'b', siteId: '../x', name: 'n', valueOne: 2, createdAtTime: Date.UTC(2024, 2, 6) },
        }),
      );
      await client.send(
        new PutCommand({
          TableName: 'visits',
          Item: { id: 'c', name: 'no site', createdAtTime: Date.UTC(2024, 2, 6) },
        }),
      );
      await client.send(
        new UpdateCommand({
          TableName: 'visits',
          Key: { id: 'a' },
          UpdateExpression: 'SET valueOne = :v',
          ExpressionAttributeValues: { ':v': 2 },
        }),
      );
      await client.send(new DeleteCommand({ TableName: 'visits', Key: { id: 'a' } }));
      // A write that changes nothing must not produce a change record.
      await client.send(
        new PutCommand({
          TableName: 'visits',
          Item: { id: 'b', siteId: '../x', name: 'n', valueOne: 2, createdAtTime: Date.UTC(2024, 2, 6) },
        }),
      );
      client.destroy();

      const sync = await runCli(['sync', '--dir', state, '--config', configFile, '--no-export']);
      expect(sync.code, sync.stderr).toBe(0);

      const result = await queryJson(
        state,
        configFile,
        'select keys.id as id, op, siteId, year, month, day from changes_visits order by seq',
      );
      expect(result.code, result.stderr).toBe(0);
      const rows = JSON.parse(result.stdout) as Array<Record<string, unknown>>;
      expect(rows.map((r) => [r.id ?? null, r.op])).toHaveLength(4);
      expect(rows.map((r) => r.op)).toEqual(['c', 'c', 'u', 'd']);
      expect(rows[0]).toMatchObject({ id: 'a', siteId: '2', year: '2024', month: '03', day: '05' });
      // The unsafe partition value was encoded, never a path segment.
      const partitions = await readdir(join(state, 'lake', 'changes', 'visits'));
      expect(partitions.sort()).toEqual(['siteId=%2E%2E%2Fx', 'siteId=2']);
      // The record without siteId went to _errors with its reason.
      const errors = await queryJson(state, configFile, 'select reason, eventId from errors');
      expect(JSON.parse(errors.stdout)[0].reason).toMatch(/siteId/);
      // 38-digit numbers keep every digit in the landed NDJSON.
      const files = (await readdir(join(state, 'lake', 'changes', 'visits', 'siteId=2'), { recursive: true })).filter(
        (f) => f.endsWith('.ndjson.gz'),
      );
      const text = (
        await Promise.all(
          files.map(async (f) =>
            gunzipSync(await readFile(join(state, 'lake', 'changes', 'visits', 'siteId=2', f))).toString(),
          ),
        )
      ).join('');
      expect(text).toContain(`"valueTwo":${big}`);
    } finally {
      expect(await up.stop()).toBe(0);
    }
  });

  it('up flushes buffered changes when stopped', async () => {
    const state = join(dir.path, 'state-flush');
    const slowConfig = join(dir.path, 'slow.json');
    const table = { ...config.tables[0]!, pipe: { ...config.tables[0]!.pipe, flushSeconds: 900 } };
    await writeFile(slowConfig, JSON.stringify({ tables: [table] }));
    const up = await startUp(state, ['--config', slowConfig]);
    const client = localDocumentClient(up.endpoints.dynamodb);
    for (const id of ['x1', 'x2', 'x3']) {
      await client.send(
        new PutCommand({ TableName: 'visits', Item: { id, siteId: '1', createdAtTime: Date.UTC(2024, 0, 1) } }),
      );
    }
    client.destroy();
    expect(await up.stop()).toBe(0);
    const result = await queryJson(state, slowConfig, 'select count(*)::INT as n from changes_visits');
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([{ n: 3 }]);
  });

  it('exits 2 and names the field for a bad config', async () => {
    const bad = join(dir.path, 'bad.json');
    await writeFile(bad, JSON.stringify({ tables: [{ name: 'visits', partitionKey: 'id', pipe: { batchSize: 0 } }] }));
    const result = await runCli(['sync', '--dir', join(dir.path, 'x'), '--config', bad]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('tables.0.pipe.batchSize');
  });

  it('exits 2 on an unknown option and shows help with --help', async () => {
    expect((await runCli(['query', '--nope'])).code).toBe(2);
    const help = await runCli(['sync', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--no-export');
  });
});
