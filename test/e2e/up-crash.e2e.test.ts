import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gzLines, localDocumentClient, runCli, startUp, tempDir } from './cli-harness.js';

interface ChangeLine {
  op: string;
  after?: { v?: number } | null;
}

const config = {
  tables: [{ name: 'orders', partitionKey: 'id', pipe: { flushSeconds: 1 } }],
};

/** The change records of `orders`, one per event id (a replayed batch may land a record twice). */
async function changeRecords(lake: string): Promise<ChangeLine[]> {
  const unique = new Map<string, ChangeLine>();
  for (const record of await gzLines<ChangeLine & { eventId: string }>(join(lake, 'changes', 'orders'))) {
    unique.set(record.eventId, record);
  }
  return [...unique.values()];
}

describe('`up` killed between an item write and its stream record', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let configFile: string;
  beforeAll(async () => {
    dir = await tempDir('e2e-up-crash');
    configFile = join(dir.path, 'tributary.config.json');
    await writeFile(configFile, JSON.stringify(config));
  });
  afterAll(async () => dir.cleanup());

  it('the restarted `up` appends the missing record, says so, and the lake holds every version once', async () => {
    const state = join(dir.path, 'state');
    const args = ['--config', configFile, '--no-export-schedule'];
    // The second captured write dies after dynalite applied it and before its stream record was appended.
    const first = await startUp(state, args, { TRIBUTARY_FAULTS: 'dynamodb.after-write@2' });
    const client = localDocumentClient(first.endpoints.dynamodb);
    await client.send(new PutCommand({ TableName: 'orders', Item: { id: 'o-105', v: 1 } }));
    await expect(client.send(new PutCommand({ TableName: 'orders', Item: { id: 'o-105', v: 2 } }))).rejects.toThrow();
    client.destroy();
    expect((await first.exited).signal).toBe('SIGKILL');

    const second = await startUp(state, args);
    let sync: Awaited<ReturnType<typeof runCli>> | undefined;
    try {
      expect(second.output()).toMatch(/up: took over the state directory from up \(pid \d+/);
      expect(second.output()).toContain(
        'up: dynamodb: appended 1 stream record(s) of write(s) a crash had interrupted',
      );
      // The client's retry after the crash changes nothing, as in the issue: it must not be needed for v=2 to land.
      const retry = localDocumentClient(second.endpoints.dynamodb);
      await retry.send(new PutCommand({ TableName: 'orders', Item: { id: 'o-105', v: 2 } }));
      await retry.send(new PutCommand({ TableName: 'orders', Item: { id: 'o-105', v: 3 } }));
      retry.destroy();
      sync = await runCli(['sync', '--dir', state, '--config', configFile, '--no-export']);
    } finally {
      const code = await second.stop();
      expect(code, second.output()).toBe(0);
    }
    expect(sync.code).toBe(0);
    const records = await changeRecords(join(state, 'lake'));
    const versions = records.map((r) => r.after?.v).sort();
    expect(versions).toEqual([1, 2, 3]);
  });
});
