/**
 * Crash soak of the local stack (`npm run soak`): writes a per-key version counter to a table through
 * `tributary up` while SIGKILLing and restarting `up`, then checks the lake: for every key, every
 * acknowledged version appears exactly once as a change record's `after` image, each MODIFY's `before`
 * is the previous version, and nothing else is there. Bounded (about a minute, 5 kills); not a timed test.
 * Prints what it found; exits 1 on any missing, extra or out-of-chain record, 2 if the run itself failed.
 *
 * Options (env): SOAK_KILLS (5), SOAK_KILL_EVERY_MS (10000), SOAK_KEYS (20), SOAK_WRITERS (4),
 * SOAK_KEEP=1 keeps the temp state directory for inspection.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';

// The SDK's notice about Node < 22 in 2027 is noise here; the CLI silences it the same way.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const KILLS = envInt('SOAK_KILLS', 5);
const KILL_EVERY_MS = envInt('SOAK_KILL_EVERY_MS', 10_000);
const KEYS = envInt('SOAK_KEYS', 20);
const WRITERS = envInt('SOAK_WRITERS', 4);
const TAIL_MS = 3_000;
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 60_000;
const DRAIN_TIMEOUT_MS = 120_000;
const TABLE = 'soak';
const REPO = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(REPO, 'bin', 'tributary.js');

interface LakeChange {
  op?: string;
  eventId?: string;
  keys?: { id?: unknown };
  before?: { v?: unknown } | null;
  after?: { v?: unknown } | null;
}

/** What the lake holds for one key, compared with the versions the writer had acknowledged. */
interface KeyFinding {
  key: string;
  acknowledged: number;
  missing: number[];
  extra: number[];
  brokenChain: string[];
}

let upChild: ChildProcess | undefined;
let upStarts = 0;

async function main(): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'tributary-soak-'));
  const configFile = join(dir, 'soak.config.json');
  await writeFile(
    configFile,
    JSON.stringify({
      tables: [
        {
          name: TABLE,
          partitionKey: 'id',
          stream: 'NEW_AND_OLD_IMAGES',
          pipe: { batchSize: 100, flushSeconds: 1 },
        },
      ],
    }),
  );
  console.log(`soak: state ${dir}; ${KEYS} keys, ${WRITERS} writers, ${KILLS} kills every ${KILL_EVERY_MS} ms`);
  const started = Date.now();
  const acknowledged = new Map<string, number>();
  let writeErrors = 0;
  let stopWriting = false;
  try {
    await startUp(dir, configFile);
    // Writers own disjoint keys, so each key's versions are written strictly in order.
    const writers = Array.from({ length: WRITERS }, (_, w) =>
      writer(
        dir,
        Array.from({ length: KEYS }, (_, k) => `k-${String(k).padStart(3, '0')}`).filter((_, k) => k % WRITERS === w),
        acknowledged,
        () => stopWriting,
        () => writeErrors++,
      ),
    );
    for (let kill = 1; kill <= KILLS; kill++) {
      await sleep(KILL_EVERY_MS);
      const writes = sum(acknowledged);
      await killUp();
      console.log(`soak: kill ${kill}/${KILLS} (SIGKILL) after ${writes} acknowledged writes`);
      await startUp(dir, configFile);
    }
    await sleep(TAIL_MS);
    stopWriting = true;
    await Promise.all(writers);
    console.log(`soak: stopped writing: ${sum(acknowledged)} acknowledged writes, ${writeErrors} failed attempts`);

    await stopUp();
    await drain(dir, configFile);
    const { findings, lines, duplicates, errorFiles } = await checkLake(dir, acknowledged);
    const bad = findings.filter((f) => f.missing.length + f.extra.length + f.brokenChain.length > 0);
    console.log(
      `soak: ${findings.length} keys, ${sum(acknowledged)} versions checked, ${KILLS} kills, ${upStarts} starts of up, ` +
        `${lines} lake lines, ${duplicates} duplicates removed (same eventId), ${errorFiles} _errors files, ` +
        `${Math.round((Date.now() - started) / 1000)} s`,
    );
    for (const finding of bad) {
      console.log(
        `soak: key ${finding.key} (1..${finding.acknowledged}): missing [${finding.missing.join(', ')}], ` +
          `extra [${finding.extra.join(', ')}], chain [${finding.brokenChain.join('; ')}]`,
      );
    }
    const missing = bad.reduce((n, f) => n + f.missing.length, 0);
    const extra = bad.reduce((n, f) => n + f.extra.length, 0);
    const broken = bad.reduce((n, f) => n + f.brokenChain.length, 0);
    console.log(
      `soak: missing ${missing}, extra ${extra}, broken chain ${broken}: ${bad.length === 0 ? 'OK' : 'FAILED'}`,
    );
    return bad.length === 0 && errorFiles === 0 ? 0 : 1;
  } finally {
    stopWriting = true;
    if (upChild && upChild.exitCode === null && upChild.signalCode === null) await killUp();
    if (process.env.SOAK_KEEP === '1') console.log(`soak: kept ${dir}`);
    else await rm(dir, { recursive: true, force: true });
  }
}

/** Starts `tributary up` and waits until it has written its endpoints (its own pid in them). */
async function startUp(dir: string, configFile: string): Promise<void> {
  upStarts += 1;
  const log = createWriteStream(join(dir, `up-${upStarts}.log`));
  const child = spawn(
    process.execPath,
    [CLI, 'up', '--dir', dir, '--config', configFile, '--no-export-schedule', '--poll-ms', '200'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  upChild = child;
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`tributary up exited during start (${child.exitCode ?? child.signalCode}); see ${log.path}`);
    if ((await endpointOf(dir, child.pid)) !== undefined) return;
    await sleep(50);
  }
  throw new Error(`tributary up did not write endpoints.json within ${START_TIMEOUT_MS} ms; see ${log.path}`);
}

async function killUp(): Promise<void> {
  const child = upChild;
  if (!child) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/** SIGINT: `up` drains the streams and flushes the lake before it exits. */
async function stopUp(): Promise<void> {
  const child = upChild;
  if (!child) return;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGINT');
  const code = await Promise.race([exited, sleep(STOP_TIMEOUT_MS).then(() => 'timeout' as const)]);
  if (code === 'timeout') {
    console.log(`soak: up did not stop within ${STOP_TIMEOUT_MS} ms after SIGINT; killing it`);
    await killUp();
  } else if (code !== 0) console.log(`soak: up exited ${code} after SIGINT`);
}

/**
 * `tributary sync --no-export` until it succeeds: whatever `up` had not delivered reaches the lake.
 * Exit 3 (busy: a pipe lease still held) is retried until the deadline.
 */
async function drain(dir: string, configFile: string): Promise<void> {
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  for (let attempt = 1; ; attempt++) {
    const log = createWriteStream(join(dir, `sync-${attempt}.log`));
    const child = spawn(process.execPath, [CLI, 'sync', '--dir', dir, '--config', configFile, '--no-export'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.pipe(log);
    child.stderr.pipe(log);
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    if (code === 0) return;
    if (Date.now() > deadline) throw new Error(`tributary sync kept failing (exit ${code}); see ${log.path}`);
    console.log(`soak: sync exited ${code}; retrying`);
    await sleep(2_000);
  }
}

/** The DynamoDB endpoint of the `up` with this pid, once it has written endpoints.json. */
async function endpointOf(dir: string, pid: number | undefined): Promise<string | undefined> {
  try {
    const endpoints = JSON.parse(await readFile(join(dir, 'endpoints.json'), 'utf8')) as {
      dynamodb?: string;
      pid?: number;
    };
    return endpoints.pid === pid ? endpoints.dynamodb : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Writes `{id, v}` round-robin over its keys; a key's counter moves on only once the write is
 * acknowledged, so after a crash the same version is written again (a no-op write if it had been applied).
 * Stops only after an acknowledged write, so no version is left unacknowledged.
 */
async function writer(
  dir: string,
  keys: string[],
  acknowledged: Map<string, number>,
  stopping: () => boolean,
  failed: () => void,
): Promise<void> {
  let client: DynamoDBClient | undefined;
  let index = 0;
  // A failed write may still have been applied: it is retried (same key, same version) even when stopping.
  let unacknowledged = false;
  while (!stopping() || unacknowledged) {
    const endpoint = await endpointOf(dir, upChild?.pid);
    if (!endpoint) {
      await sleep(50);
      continue;
    }
    client?.destroy();
    client = new DynamoDBClient({
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'soak', secretAccessKey: 'soak' },
      maxAttempts: 1,
      requestHandler: { requestTimeout: 5_000 },
    });
    while (!stopping() || unacknowledged) {
      const key = keys[index % keys.length] as string;
      const version = (acknowledged.get(key) ?? 0) + 1;
      try {
        await client.send(
          new PutItemCommand({ TableName: TABLE, Item: { id: { S: key }, v: { N: String(version) } } }),
        );
      } catch {
        unacknowledged = true;
        failed();
        await sleep(50);
        break; // Re-read endpoints.json: `up` may have been restarted on a new port.
      }
      acknowledged.set(key, version);
      unacknowledged = false;
      index += 1;
    }
  }
  client?.destroy();
}

/** Reads every change record of the table from the lake and compares it with the acknowledged versions. */
async function checkLake(
  dir: string,
  acknowledged: Map<string, number>,
): Promise<{ findings: KeyFinding[]; lines: number; duplicates: number; errorFiles: number }> {
  const lake = join(dir, 'lake');
  const files = await listFiles(join(lake, 'changes', TABLE));
  const errorFiles = (await listFiles(join(lake, '_errors'))).length;
  const byEventId = new Map<string, LakeChange>();
  let lines = 0;
  for (const file of files.filter((f) => f.endsWith('.ndjson.gz'))) {
    for (const line of gunzipSync(await readFile(file))
      .toString('utf8')
      .split('\n')) {
      if (!line.trim()) continue;
      lines += 1;
      const change = JSON.parse(line) as LakeChange;
      // Delivery is at-least-once: a replayed batch repeats records with their eventId, as the views dedupe.
      byEventId.set(change.eventId ?? `line-${lines}`, change);
    }
  }
  const perKey = new Map<string, LakeChange[]>();
  for (const change of byEventId.values()) {
    const key = String(change.keys?.id ?? '?');
    perKey.set(key, [...(perKey.get(key) ?? []), change]);
  }
  const keys = new Set([...acknowledged.keys(), ...perKey.keys()]);
  const findings = [...keys].sort().map((key) => compare(key, acknowledged.get(key) ?? 0, perKey.get(key) ?? []));
  return { findings, lines, duplicates: lines - byEventId.size, errorFiles };
}

/** Versions 1..acknowledged must each be one record's `after.v`; a MODIFY's `before.v` is the version before. */
function compare(key: string, acknowledgedVersions: number, changes: LakeChange[]): KeyFinding {
  const seen = new Map<number, number>();
  const brokenChain: string[] = [];
  for (const change of changes) {
    const after = change.after?.v === undefined ? undefined : Number(change.after.v);
    const before = change.before?.v === undefined ? undefined : Number(change.before.v);
    if (after === undefined) {
      brokenChain.push(`${change.op ?? '?'} without after.v`);
      continue;
    }
    seen.set(after, (seen.get(after) ?? 0) + 1);
    const expectedBefore = after === 1 ? undefined : after - 1;
    if (before !== expectedBefore) brokenChain.push(`v=${after} has before.v=${before ?? 'none'}`);
  }
  const missing: number[] = [];
  for (let v = 1; v <= acknowledgedVersions; v++) if (!seen.has(v)) missing.push(v);
  const extra: number[] = [];
  for (const [v, count] of seen) {
    if (v < 1 || v > acknowledgedVersions) extra.push(v);
    for (let i = 1; i < count; i++) extra.push(v);
  }
  return { key, acknowledged: acknowledgedVersions, missing, extra: extra.sort((a, b) => a - b), brokenChain };
}

async function listFiles(root: string): Promise<string[]> {
  try {
    const entries = await readdir(root, { recursive: true, withFileTypes: true });
    return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return [];
    throw error;
  }
}

function sum(map: Map<string, number>): number {
  let total = 0;
  for (const value of map.values()) total += value;
  return total;
}

function envInt(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`soak: ${(error as Error).message}`);
    process.exitCode = 2;
  },
);
