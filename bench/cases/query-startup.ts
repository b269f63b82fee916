/**
 * Query startup: what a user waits for before the first row of `tributary query`.
 *
 * - `generate` (n = copies): runs `tributary demo` into `<dir>/query-startup/demo`, then builds
 *   `<dir>/query-startup/large-<n>`: the demo lake with every change-record, FHIR and current-state file copied n times
 *   under new names (as a long-running `up` with small flushes and repeated exports leaves it).
 * - `baseline` (n = runs): the floor, `node` + `@duckdb/node-api` + `SELECT 1` in a fresh process, no views.
 * - `cli` / `cli-demo` (n = runs): `node bin/tributary.js query --dir <large|demo> "SELECT 1"`, process spawn to exit,
 *   with the schema cache in place (`<lake>/.query-schemas.json`, written by the first run); `cli-cold` removes it
 *   before every run (the first query after new data, or before the cache existed).
 * - `open` / `open-demo` (n = runs): in-process `LakeQuery.open` creating every view (as `--views`, the demo and tests
 *   do), after a warm-up open; `open-sql`: as `tributary query "SELECT 1"` opens it (only the views the SQL names).
 *
 * Each variant prints one result: items = runs, `stats` = wall time per run (ms), and for spawned runs `cpu` = user +
 * system CPU per run (ms, from /usr/bin/time when there is one), which the machine's load disturbs less.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SCHEMA_CACHE_FILE } from '../../src/query/schema-cache.js';
import { caseArgs, measure, summarise } from '../measure.js';

const { variant, n, dir } = caseArgs();
const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** BENCH_TRIBUTARY_BIN: another checkout's CLI, to compare before and after a change on the same lakes. */
const cli = process.env.BENCH_TRIBUTARY_BIN ?? join(repo, 'bin', 'tributary.js');
const root = resolve(dir, 'query-startup');
const demoDir = join(root, 'demo');
/** Copies in the large lake: fixed, so every variant reads the same lake whatever its own n. */
const COPIES = Number(process.env.BENCH_QUERY_COPIES ?? '20');
const largeDir = join(root, `large-${COPIES}`);

function filesBelow(folder: string): string[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

/** `a.ndjson.gz` → `a-c3.ndjson.gz`; the export-time prefix of FHIR file names is kept. */
function copyName(file: string, copy: number): string {
  const match = /^(.*?)(\.ndjson\.gz|\.parquet)$/.exec(file);
  return match ? `${match[1]}-c${copy}${match[2]}` : `${file}-c${copy}`;
}

function generate(copies: number): void {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const demo = spawnSync(process.execPath, [cli, 'demo', '--dir', demoDir], { encoding: 'utf8' });
  if (demo.status !== 0) throw new Error(`tributary demo failed (exit ${demo.status}): ${demo.stderr}`);
  const lake = join(demoDir, 'lake');
  for (const file of filesBelow(lake)) {
    const rel = relative(lake, file);
    const target = join(largeDir, 'lake', rel);
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(file, target);
    // Materialised views are rewritten whole by `views rebuild`: one base per view, not copied.
    if (!/^(changes|fhir|current)\//.test(rel)) continue;
    for (let c = 1; c < copies; c++) copyFileSync(file, copyName(target, c));
  }
  process.stderr.write(
    `bench: query-startup lakes: ${filesBelow(lake).length} files (demo), ${filesBelow(join(largeDir, 'lake')).length} files (${copies} copies)\n`,
  );
}

const TIME = '/usr/bin/time';
const cpuSamples: number[] = [];

/** Wall time of a child process, ms; its CPU time goes to `cpuSamples` when /usr/bin/time is there. */
function timeProcess(args: string[]): number {
  const timed = existsSync(TIME);
  const started = process.hrtime.bigint();
  const child = timed
    ? spawnSync(TIME, ['-f', 'CPU %U %S', process.execPath, ...args], { encoding: 'utf8', cwd: repo })
    : spawnSync(process.execPath, args, { encoding: 'utf8', cwd: repo });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (child.status !== 0) throw new Error(`${args.join(' ')} failed (exit ${child.status}): ${child.stderr}`);
  const cpu = /CPU (\d+(?:\.\d+)?) (\d+(?:\.\d+)?)\s*$/.exec(child.stderr);
  if (cpu) cpuSamples.push((Number(cpu[1]) + Number(cpu[2])) * 1000);
  return ms;
}

async function runs(name: string, once: () => Promise<number> | number): Promise<void> {
  const samples: number[] = [];
  await measure({ name: 'query-startup', variant: name, unit: 'runs' }, async () => {
    for (let i = 0; i < n; i++) samples.push(await once());
    return { items: n, stats: summarise(samples), ...(cpuSamples.length > 0 ? { cpu: summarise(cpuSamples) } : {}) };
  });
}

const FLOOR = `import { DuckDBInstance } from '@duckdb/node-api';
const instance = await DuckDBInstance.create(':memory:');
const connection = await instance.connect();
await connection.runAndReadAll('SELECT 1');
connection.closeSync(); instance.closeSync();`;

if (variant === 'generate') {
  generate(COPIES);
} else if (variant === 'baseline') {
  await runs('baseline: node + DuckDB SELECT 1, no views (ms per run)', () =>
    timeProcess(['--input-type=module', '-e', FLOOR]),
  );
} else if (variant === 'cli' || variant === 'cli-demo' || variant === 'cli-cold') {
  const state = variant === 'cli-demo' ? demoDir : largeDir;
  const lake = variant === 'cli-demo' ? 'demo lake' : `large lake (${COPIES}×)`;
  await runs(
    `tributary query "SELECT 1", spawn to exit, ${lake}${variant === 'cli-cold' ? ', no schema cache' : ''}`,
    () => {
      if (variant === 'cli-cold') rmSync(join(state, 'lake', SCHEMA_CACHE_FILE), { force: true });
      return timeProcess([cli, 'query', '--dir', state, 'SELECT 1']);
    },
  );
} else if (variant === 'open' || variant === 'open-demo' || variant === 'open-sql') {
  const lake = join(variant === 'open-demo' ? demoDir : largeDir, 'lake');
  const options = variant === 'open-sql' ? { sql: 'SELECT 1' } : {};
  const { LakeQuery } = await import('../../src/query/lake-query.js');
  await (await LakeQuery.open(lake, options)).close(); // warm-up: module load, schema cache
  const what = variant === 'open-sql' ? 'views named by "SELECT 1" (none)' : 'every view';
  await runs(
    `LakeQuery.open in-process, ${what}, ${variant === 'open-demo' ? 'demo lake' : `large lake (${COPIES}×)`}`,
    async () => {
      const started = process.hrtime.bigint();
      const query = await LakeQuery.open(lake, options);
      await query.run('SELECT 1');
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      await query.close();
      return ms;
    },
  );
} else {
  throw new Error(`unknown variant ${variant}`);
}
