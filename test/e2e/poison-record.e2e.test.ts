import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueExampleConfig } from '../fixtures/issue-example-config.js';
import { gzLines, localDocumentClient, runCli, startUp, tempDir } from './cli-harness.js';

/** The issue's config, with a buffer interval long enough that `up` holds its lease (uncommitted) when killed. */
const config = {
  tables: issueExampleConfig.tables.map((table) => ({ ...table, pipe: { ...table.pipe, flushSeconds: 900 } })),
};

async function waitFor(condition: () => boolean, what: () => string): Promise<void> {
  for (let i = 0; i < 600 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 100));
  if (!condition()) throw new Error(`timed out waiting: ${what()}`);
}

describe('a poison record and a killed `up` through the CLI', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let configFile: string;
  beforeAll(async () => {
    dir = await tempDir('e2e-poison');
    configFile = join(dir.path, 'tributary.config.json');
    await writeFile(configFile, JSON.stringify(config));
  });
  afterAll(async () => dir.cleanup());

  it('up reports the rejected record; after kill -9, sync takes the dead lease at once, lands the rest and exits 0', async () => {
    const state = join(dir.path, 'state');
    const up = await startUp(state, ['--config', configFile, '--no-export-schedule']);
    let killed = false;
    try {
      const client = localDocumentClient(up.endpoints.dynamodb);
      const createdAtTime = Date.UTC(2024, 2, 5);
      await client.send(new PutCommand({ TableName: 'visits', Item: { id: 'a', siteId: '1', createdAtTime } }));
      await client.send(
        new PutCommand({ TableName: 'visits', Item: { id: 'poison', siteId: 'S'.repeat(2048), createdAtTime } }),
      );
      await client.send(new PutCommand({ TableName: 'visits', Item: { id: 'b', siteId: '2', createdAtTime } }));
      client.destroy();
      await waitFor(
        () => up.output().includes('pipe visits-pipe: 1 record rejected (InvalidPartitionAttribute)'),
        up.output,
      );
      // No value of the record ever reaches the log.
      expect(up.output()).not.toContain('SSSSSSSS');
      up.child.kill('SIGKILL');
      killed = true;
      await up.stop();

      const sync = await runCli(['sync', '--dir', state, '--config', configFile, '--no-export']);
      expect(sync.code, sync.stderr).toBe(0);
      expect(sync.stderr).not.toContain('waiting for');
      expect(sync.stderr).not.toContain('SSSSSSSS');
      expect(sync.stderr).toContain('pipe visits-pipe: 1 record rejected (InvalidPartitionAttribute)');

      const landed = await gzLines(join(state, 'lake', 'changes', 'visits'));
      expect(landed.map((r) => (r.keys as { id: string }).id).sort()).toEqual(['a', 'b']);
      const rejected = await gzLines(join(state, 'lake', '_errors'));
      expect(rejected).toEqual([
        expect.objectContaining({
          errorType: 'InvalidPartitionAttribute',
          reason:
            'partition attribute siteId: encoded value is 2048 bytes, over the 200-byte limit of a partition value',
        }),
      ]);

      // The checkpoint moved past the poison: a second sync reads nothing.
      const again = await runCli(['sync', '--dir', state, '--config', configFile, '--no-export']);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stderr).toContain('pipe visits-pipe: 0 records read');
    } finally {
      if (!killed) await up.stop();
    }
  });
});
