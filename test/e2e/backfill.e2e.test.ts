import { BatchWriteItemCommand, CreateTableCommand, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { isLosslessNumber, parse } from 'lossless-json';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesUnder, gzLines, localDocumentClient, queryJson, runCli, startUp, tempDir } from './cli-harness.js';

const TABLE = 'legacy';
const BIG = '12345678901234567890123456789012345678';

/** A value with every number as its exact text, so a lake row and a Scan item compare digit for digit. */
function exact(value: unknown): unknown {
  if (isLosslessNumber(value)) return `#${value.value}`;
  if (value && typeof value === 'object' && 'value' in value && Object.keys(value).length === 1)
    return `#${String((value as { value: unknown }).value)}`; // NumberValue from unmarshall(wrapNumbers)
  if (typeof value === 'number' || typeof value === 'bigint') return `#${String(value)}`;
  if (Array.isArray(value)) return value.map(exact);
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => [k, exact(v)]),
    );
  return value;
}

/** Every item of the table through the SDK, keyed by id, numbers exact. */
async function scanTable(endpoint: string): Promise<Map<string, unknown>> {
  const client = localDocumentClient(endpoint);
  const items = new Map<string, unknown>();
  let start: Record<string, AttributeValue> | undefined;
  try {
    do {
      const page = await client.send(new ScanCommand({ TableName: TABLE, ExclusiveStartKey: start }));
      for (const item of page.Items ?? []) {
        const plain = unmarshall(item, { wrapNumbers: true });
        items.set(String(plain['id']), exact(plain));
      }
      start = page.LastEvaluatedKey;
    } while (start);
  } finally {
    client.destroy();
  }
  return items;
}

/** current_<table> through `tributary query --format json`, keyed by id, numbers exact. */
async function currentState(state: string, config: string): Promise<Map<string, unknown>> {
  const result = await queryJson(state, config, `select item from current_${TABLE}`);
  expect(result.code, result.stderr).toBe(0);
  const rows = parse(result.stdout) as Array<{ item: unknown }>;
  const items = new Map<string, unknown>();
  for (const row of rows) {
    const item = (typeof row.item === 'string' ? parse(row.item) : row.item) as Record<string, unknown>;
    items.set(String(item['id']), exact(item));
  }
  return items;
}

const tableConfig = (extra: Record<string, unknown> = {}) => ({
  name: TABLE,
  partitionKey: 'id',
  ...extra,
});

describe('existing tables through the CLI: initial snapshot and stream-gap repair', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    dir = await tempDir('e2e-backfill');
  });
  afterAll(async () => dir.cleanup());

  it('a table made through the SDK without a stream, 1,000 items: up + sync under writes land it; current state equals a Scan', async () => {
    const state = join(dir.path, 'snapshot');
    const bare = join(dir.path, 'bare.json');
    const withTable = join(dir.path, 'with-table.json');
    await writeFile(bare, JSON.stringify({ tables: [] }));
    await writeFile(withTable, JSON.stringify({ tables: [tableConfig({ pipe: { flushSeconds: 1 } })] }));

    // The table exists before Tributary knows it: no stream, 1,000 items.
    const first = await startUp(state, ['--config', bare, '--no-export-schedule']);
    try {
      const client = localDocumentClient(first.endpoints.dynamodb);
      await client.send(
        new CreateTableCommand({
          TableName: TABLE,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        }),
      );
      for (let batch = 0; batch < 40; batch++) {
        await client.send(
          new BatchWriteItemCommand({
            RequestItems: {
              [TABLE]: Array.from({ length: 25 }, (_, i) => {
                const n = batch * 25 + i;
                return {
                  PutRequest: {
                    Item: {
                      id: { S: `item-${String(n).padStart(4, '0')}` },
                      n: { N: String(n) },
                      big: { N: BIG },
                      site: { S: n % 2 === 0 ? 'north' : 'south' },
                    },
                  },
                };
              }),
            },
          }),
        );
      }
      client.destroy();
    } finally {
      expect(await first.stop()).toBe(0);
    }

    // Added to the config: up enables the stream and snapshots while a client keeps writing.
    const up = await startUp(state, ['--config', withTable, '--no-export-schedule']);
    try {
      expect(up.output()).toMatch(/table legacy had no stream: enabled one \(NEW_AND_OLD_IMAGES/);
      const writer = localDocumentClient(up.endpoints.dynamodb);
      let stop = false;
      // Until the snapshot has landed the writer only changes existing items (puts and updates), so it reads exactly the
      // 1,000; then it also deletes items and adds new ones.
      const snapshotLanded = () => /snapshot landed/.test(up.output());
      const writes = (async () => {
        // Runs until the first sync is done and at least 60 writes came after the snapshot landed.
        for (let i = 0, late = 0; !stop || late < 60; i++) {
          if (snapshotLanded()) late++;
          if (i > 20_000) throw new Error('the snapshot did not land');
          const key = `item-${String((i * 37) % 1000).padStart(4, '0')}`;
          if (i % 4 === 0)
            await writer.send(
              new PutCommand({ TableName: TABLE, Item: { id: key, n: i, site: 'west', big: BigInt(BIG) } }),
            );
          else if (i % 4 === 1 && snapshotLanded())
            await writer.send(new PutCommand({ TableName: TABLE, Item: { id: `new-${i}`, n: i, site: 'east' } }));
          else if (i % 4 === 1 || i % 4 === 2)
            await writer.send(
              new UpdateCommand({
                TableName: TABLE,
                Key: { id: key },
                UpdateExpression: 'SET n = n + :one, touched = :t',
                ExpressionAttributeValues: { ':one': 1, ':t': true },
              }),
            );
          else if (snapshotLanded()) await writer.send(new DeleteCommand({ TableName: TABLE, Key: { id: key } }));
        }
      })();
      const during = await runCli(['sync', '--dir', state, '--config', withTable, '--no-export']);
      expect(during.code, during.stderr).toBe(0);
      stop = true;
      await writes;
      writer.destroy();
      const after = await runCli(['sync', '--dir', state, '--config', withTable, '--no-export']);
      expect(after.code, after.stderr).toBe(0);
      expect(snapshotLanded()).toBe(true);
      expect(up.output()).toMatch(
        /pipe legacy-pipe: no checkpoint and the table holds items .*: taking an initial snapshot/,
      );
      expect(up.output()).toMatch(/enabled point-in-time recovery on legacy/);

      const scan = await scanTable(up.endpoints.dynamodb!);
      const current = await currentState(state, withTable);
      expect(current.size).toBe(scan.size);
      expect(current).toEqual(scan);
      // Each of the 1,000 items was read once by the snapshot.
      const reads = (await gzLines<{ op: string }>(join(state, 'lake', 'changes', TABLE))).filter((r) => r.op === 'r');
      expect(reads).toHaveLength(1000);
    } finally {
      expect(await up.stop()).toBe(0);
    }
  }, 60_000);

  it('a pipe stopped longer than the stream retention: sync reports the gap (exit 4), repairs it; current state equals a Scan', async () => {
    const state = join(dir.path, 'gap');
    const retention = { dynamodb: { streamRetentionSeconds: 2 } };
    const piped = join(dir.path, 'piped.json');
    const unpiped = join(dir.path, 'unpiped.json');
    await writeFile(piped, JSON.stringify({ ...retention, tables: [tableConfig({ pipe: { flushSeconds: 1 } })] }));
    // The same table without a pipe: DynamoDB serves writes while nothing reads the stream (the pipe is "down").
    await writeFile(unpiped, JSON.stringify({ ...retention, tables: [tableConfig()] }));
    const put = (client: ReturnType<typeof localDocumentClient>, id: string, n: number) =>
      client.send(new PutCommand({ TableName: TABLE, Item: { id, n, big: BigInt(BIG) } }));

    // Created by up with its stream, so no snapshot: the pipe streams and is drained.
    const first = await startUp(state, ['--config', piped, '--no-export-schedule']);
    try {
      const client = localDocumentClient(first.endpoints.dynamodb);
      for (let i = 0; i < 20; i++) await put(client, `k${i}`, i);
      client.destroy();
    } finally {
      // Stopping drains the pipe and commits its checkpoint.
      expect(await first.stop()).toBe(0);
    }
    expect(first.output()).not.toMatch(/taking an initial snapshot/);

    // The pipe is down: changes, a wait past the retention (they are trimmed), more changes.
    const down = await startUp(state, ['--config', unpiped, '--no-export-schedule']);
    try {
      const client = localDocumentClient(down.endpoints.dynamodb);
      for (let i = 0; i < 10; i++) await put(client, `k${i}`, 100 + i);
      await client.send(new DeleteCommand({ TableName: TABLE, Key: { id: 'k15' } }));
      await client.send(new PutCommand({ TableName: TABLE, Item: { id: 'gone-soon', n: 1 } }));
      await new Promise((resolve) => setTimeout(resolve, 2100));
      await client.send(new DeleteCommand({ TableName: TABLE, Key: { id: 'gone-soon' } }));
      for (let i = 10; i < 14; i++) await put(client, `k${i}`, 200 + i);
      await put(client, 'late', 7);
      client.destroy();
    } finally {
      expect(await down.stop()).toBe(0);
    }

    const repaired = await runCli(['sync', '--dir', state, '--config', piped, '--no-export']);
    expect(repaired.code, repaired.stderr).toBe(4);
    expect(repaired.stderr).toMatch(/pipe legacy-pipe: gap: shard \S+, checkpoint \d+ \(last record at \d{4}-/);
    expect(repaired.stderr).toMatch(/repairing with an INCREMENTAL export of legacy from/);
    expect(repaired.stderr).toMatch(/fell behind the stream's trim horizon .*repaired by incremental export/);
    const gaps = (await gzLines<{ errorType: string }>(join(state, 'lake', '_errors', 'legacy-pipe'))).filter(
      (entry) => entry.errorType === 'StreamTrimmed',
    );
    // One gap; a second one when the machine is slow enough that records written after the wait are trimmed too
    // before the repair resumes reading (retention is 2 s here): a later trim is reported, never skipped.
    expect(gaps.length).toBeGreaterThanOrEqual(1);
    expect(gaps.length).toBeLessThanOrEqual(2);

    const up = await startUp(state, ['--config', piped, '--no-export-schedule']);
    try {
      const again = await runCli(['sync', '--dir', state, '--config', piped, '--no-export']);
      expect(again.code, again.stderr).toBe(0);
      const scan = await scanTable(up.endpoints.dynamodb!);
      expect(scan.has('gone-soon')).toBe(false);
      expect(scan.size).toBe(20);
      expect(await currentState(state, piped)).toEqual(scan);
    } finally {
      expect(await up.stop()).toBe(0);
    }
  }, 60_000);

  it('tributary backfill --table takes a snapshot on demand and refreshes the current state; an unknown table exits 2', async () => {
    const state = join(dir.path, 'on-demand');
    const config = join(dir.path, 'on-demand.json');
    await writeFile(config, JSON.stringify({ tables: [tableConfig({ pipe: { flushSeconds: 1 } })] }));
    const up = await startUp(state, ['--config', config, '--no-export-schedule']);
    try {
      const client = localDocumentClient(up.endpoints.dynamodb);
      for (const id of ['a', 'b', 'c']) await client.send(new PutCommand({ TableName: TABLE, Item: { id, n: 1 } }));
      client.destroy();
      // With `up` running, backfill uses its DynamoDB.
      const attached = await runCli(['backfill', '--table', TABLE, '--dir', state, '--config', config]);
      expect(attached.code, attached.stderr).toBe(0);
      expect(attached.stderr).toMatch(/backfill: snapshot \S+: 3 items landed as r records in changes\/legacy\//);
    } finally {
      expect(await up.stop()).toBe(0);
    }
    // Without it, backfill embeds the services itself (under the state-directory lock).
    const embedded = await runCli(['backfill', '--table', TABLE, '--dir', state, '--config', config]);
    expect(embedded.code, embedded.stderr).toBe(0);
    expect(embedded.stderr).toMatch(/current legacy: \d+ change files folded in/);
    const reads = (await gzLines<{ op: string; keys: { id: string } }>(join(state, 'lake', 'changes', TABLE))).filter(
      (r) => r.op === 'r',
    );
    expect(reads.map((r) => r.keys.id).sort()).toEqual(['a', 'a', 'b', 'b', 'c', 'c']);
    const current = await currentState(state, config);
    expect([...current.keys()].sort()).toEqual(['a', 'b', 'c']);

    const unknown = await runCli(['backfill', '--table', 'nope', '--dir', state, '--config', config]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('--table nope: not a configured table (configured: legacy)');
  }, 60_000);

  it('kill -9 after the snapshot landed but before its positions were committed: the next sync lands the same export once', async () => {
    const state = join(dir.path, 'killed');
    const bare = join(dir.path, 'killed-bare.json');
    const withTable = join(dir.path, 'killed-table.json');
    await writeFile(bare, JSON.stringify({ tables: [] }));
    await writeFile(withTable, JSON.stringify({ tables: [tableConfig({ pipe: {} })] }));
    const first = await startUp(state, ['--config', bare, '--no-export-schedule']);
    try {
      const client = localDocumentClient(first.endpoints.dynamodb);
      await client.send(
        new CreateTableCommand({
          TableName: TABLE,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        }),
      );
      for (let i = 0; i < 50; i++) await client.send(new PutCommand({ TableName: TABLE, Item: { id: `i${i}`, n: i } }));
      client.destroy();
    } finally {
      expect(await first.stop()).toBe(0);
    }

    process.env.TRIBUTARY_FAULTS = 'backfill.after-land';
    let killed;
    try {
      killed = await runCli(['sync', '--dir', state, '--config', withTable, '--no-export']);
    } finally {
      delete process.env.TRIBUTARY_FAULTS;
    }
    expect(killed.code, killed.stderr).toBeNull();
    expect(killed.stderr).toContain('fault hook backfill.after-land');
    const landedBefore = (await filesUnder(join(state, 'lake', 'changes', TABLE))).sort();

    const resumed = await runCli(['sync', '--dir', state, '--config', withTable, '--no-export']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/pipe legacy-pipe: snapshot \S+ was interrupted before it landed: landing it again/);
    expect(resumed.stderr).not.toMatch(/taking an initial snapshot/);
    // The same export, over the same files: one export, 50 reads, no file added.
    const exportIds = new Set(
      (await filesUnder(join(state, 's3', 'tributary-backfill', TABLE, 'AWSDynamoDB'))).map(
        (file) => file.split('/AWSDynamoDB/')[1]!.split('/')[0],
      ),
    );
    expect(exportIds.size).toBe(1);
    expect((await filesUnder(join(state, 'lake', 'changes', TABLE))).sort()).toEqual(landedBefore);
    const reads = (await gzLines<{ op: string }>(join(state, 'lake', 'changes', TABLE))).filter((r) => r.op === 'r');
    expect(reads).toHaveLength(50);
    const current = await currentState(state, withTable);
    expect(current.size).toBe(50);

    // Committed now: a further sync takes no snapshot.
    const again = await runCli(['sync', '--dir', state, '--config', withTable, '--no-export']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).not.toMatch(/snapshot/);
  }, 60_000);
});
