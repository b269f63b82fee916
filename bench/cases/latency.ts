/**
 * Write-to-queryable latency of the local stack: `tributary up` runs (spawned, as a user runs it) with one table whose
 * pipe has `flushSeconds: 1`; n PutItems through the AWS SDK, one every PACE_MS, and for each the time from the
 * write's response until a lake file holding that key is there (the lake is watched every WATCH_MS; files appear
 * whole, by rename). Then QUERY_SAMPLES more writes, each waited for through the real query path: DuckDB views opened
 * the way `tributary query` opens them (`LakeQuery.open`), polled until the row is there.
 *
 * Variant `up` (n = writes). Goal (issue 12): p99 under 2 s with flushSeconds 1. BENCH_TRIBUTARY_BIN runs another
 * checkout's `bin/tributary.js` (to compare before and after a change).
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { caseArgs, measure, summarise } from '../measure.js';

const { variant, n, dir } = caseArgs();
const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const root = resolve(dir, 'latency');
const TABLE = 'latency';
const bin = process.env.BENCH_TRIBUTARY_BIN ?? join(repo, 'bin', 'tributary.js');
const PACE_MS = Number(process.env.BENCH_LATENCY_PACE_MS ?? '75');
const WATCH_MS = 10;
const QUERY_SAMPLES = Number(process.env.BENCH_LATENCY_QUERY_SAMPLES ?? '10');
// As bin/tributary.js does: the SDK warns on Node < 22 about releases from 2027 on.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const now = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms).unref());

if (variant !== 'up') throw new Error(`unknown variant ${variant}`);

rmSync(root, { recursive: true, force: true });
mkdirSync(root, { recursive: true });
const state = join(root, 'state');
const configFile = join(root, 'tributary.config.json');
writeFileSync(
  configFile,
  JSON.stringify({
    tables: [{ name: TABLE, partitionKey: 'id', stream: 'NEW_AND_OLD_IMAGES', pipe: { flushSeconds: 1 } }],
    views: [],
  }),
);

const up = spawn(process.execPath, [bin, 'up', '--dir', state, '--config', configFile, '--no-export-schedule'], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'pipe'],
});
let upLog = '';
up.stdout.on('data', (chunk: Buffer) => (upLog += chunk.toString()));
up.stderr.on('data', (chunk: Buffer) => (upLog += chunk.toString()));
const exited = once(up, 'exit');

async function endpoint(): Promise<string> {
  const file = join(state, 'endpoints.json');
  for (let i = 0; i < 600; i++) {
    if (up.exitCode !== null) throw new Error(`tributary up exited (${up.exitCode}):\n${upLog}`);
    if (existsSync(file) && upLog.includes('Ctrl-C to stop'))
      return (JSON.parse(readFileSync(file, 'utf8')) as { dynamodb: string }).dynamodb;
    await sleep(100);
  }
  throw new Error(`tributary up did not start:\n${upLog}`);
}

/** Keys seen in the lake so far, with when the watcher first saw them; files already read are skipped. */
class LakeWatcher {
  public readonly seen = new Map<string, number>();
  private readonly read = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  public constructor(private readonly folder: string) {}
  public start(): void {
    const tick = () => {
      this.scan();
      this.timer = setTimeout(tick, WATCH_MS);
    };
    tick();
  }
  public stop(): void {
    clearTimeout(this.timer);
  }
  private scan(): void {
    if (!existsSync(this.folder)) return;
    const at = now();
    for (const entry of readdirSync(this.folder, { withFileTypes: true, recursive: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.ndjson.gz')) continue;
      const file = join(entry.parentPath, entry.name);
      if (this.read.has(file)) continue;
      this.read.add(file);
      for (const line of gunzipSync(readFileSync(file)).toString('utf8').split('\n')) {
        if (!line) continue;
        const id = (JSON.parse(line) as { keys?: { id?: string } }).keys?.id;
        if (id !== undefined && !this.seen.has(id)) this.seen.set(id, at);
      }
    }
  }
}

try {
  const client = new DynamoDBClient({
    endpoint: await endpoint(),
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const lake = join(state, 'lake');
  const watcher = new LakeWatcher(join(lake, 'changes', TABLE));
  watcher.start();
  const put = async (id: string) => {
    await client.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: { id: { S: id }, at: { N: String(Date.now()) }, note: { S: 'bench latency' } },
      }),
    );
    return now();
  };
  // Warm-up: the first write and flush (SDK, stream, lake folders) are not counted.
  await put('warmup');
  while (!watcher.seen.has('warmup')) await sleep(WATCH_MS);

  const written = new Map<string, number>();
  await measure(
    { name: 'latency', variant: `write → lake file (flushSeconds 1, a write every ${PACE_MS} ms)`, unit: 'writes' },
    async () => {
      for (let i = 0; i < n; i++) {
        const started = now();
        const id = `w${i}`;
        written.set(id, await put(id));
        await sleep(Math.max(0, PACE_MS - (now() - started)));
      }
      const deadline = now() + 30_000;
      while ([...written.keys()].some((id) => !watcher.seen.has(id)) && now() < deadline) await sleep(WATCH_MS);
      const missing = [...written.keys()].filter((id) => !watcher.seen.has(id));
      if (missing.length > 0) throw new Error(`${missing.length} writes never reached the lake`);
      return { items: n, stats: summarise([...written].map(([id, at]) => watcher.seen.get(id)! - at)) };
    },
  );
  watcher.stop();

  // The real query path: views opened as `tributary query` opens them, polled until the row is there.
  const { LakeQuery } = await import('../../src/query/lake-query.js');
  await measure(
    { name: 'latency', variant: 'write → row in changes_<table> (LakeQuery.open + SELECT, polled)', unit: 'writes' },
    async () => {
      const samples: number[] = [];
      for (let i = 0; i < QUERY_SAMPLES; i++) {
        const id = `q${i}`;
        const at = await put(id);
        const sql = `SELECT count(*) AS n FROM changes_${TABLE} WHERE json_extract_string(keys, '$.id') = '${id}'`;
        for (;;) {
          // As `tributary query "<sql>"` opens it: only the views the SQL names are created.
          const query = await LakeQuery.open(lake, { sql });
          try {
            const { rows } = await query.run(sql);
            if (Number(rows[0]?.n) > 0) break;
          } finally {
            await query.close();
          }
          if (now() - at > 30_000) throw new Error(`${id} never became queryable`);
        }
        samples.push(now() - at);
        await sleep(PACE_MS);
      }
      return { items: QUERY_SAMPLES, stats: summarise(samples) };
    },
  );
  client.destroy();
  // Once through the CLI itself, as a user would look: every write is there (once, whatever the retries).
  const cli = spawnSync(
    process.execPath,
    [bin, 'query', '--dir', state, '--format', 'json', `SELECT count(DISTINCT eventId) AS n FROM changes_${TABLE}`],
    { encoding: 'utf8', cwd: root },
  );
  const counted = cli.status === 0 ? (JSON.parse(cli.stdout) as Array<{ n: number }>)[0]?.n : undefined;
  if (counted !== n + QUERY_SAMPLES + 1)
    throw new Error(`tributary query counted ${counted ?? cli.stderr}, expected ${n + QUERY_SAMPLES + 1} writes`);
  process.stderr.write(`bench: tributary query counts all ${counted} writes in changes_${TABLE}\n`);
} finally {
  up.kill('SIGINT');
  await Promise.race([exited, sleep(20_000)]);
  if (up.exitCode === null) up.kill('SIGKILL');
}
