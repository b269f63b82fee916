/**
 * `npm run bench`: runs every benchmark case in its own process (so peak RSS is per case), next to its
 * anchor (baseline) from the same run, prints throughput, peak memory and the ratio to the anchor, and saves
 * everything as JSON under `bench/results/` (see bench/results/README.md).
 *
 * Sizes scale with BENCH_SCALE (default 1; e.g. BENCH_SCALE=0.1 for a quick look). `npm run bench -- <prefix>`
 * runs only the cases whose file starts with the prefix (e.g. `latency`); BENCH_NO_SAVE=1 skips the JSON file.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { CaseResult } from './measure.js';

const here = dirname(fileURLToPath(import.meta.url));
const dataDir = join(here, '.data');
const resultsDir = join(here, 'results');
const scale = Number(process.env.BENCH_SCALE ?? '1');
const only = process.argv[2];

/** One case process of the plan. */
export interface PlanRow {
  /** Case file below bench/cases. */
  file: string;
  /** `--variant` of the case; with `file`, the row's key. */
  variant: string;
  /** `--n` before BENCH_SCALE. */
  n: number;
  /** Fixed `--n`, not scaled (e.g. a count of runs). */
  fixedN?: boolean;
  /**
   * The variant of the same file this row is compared to (its baseline). The anchor row with the same n is
   * preferred, else the nearest n; a missing or failed anchor leaves the ratio empty (no error), so variants can
   * be added to a case without touching the others.
   */
  anchorOf?: string;
  /**
   * How the ratio reads: `throughput` (default) = row items/s ÷ anchor items/s (higher is better);
   * `latency` = row p50 ÷ anchor p50 (lower is better).
   */
  compare?: 'throughput' | 'latency';
}

export const plan: PlanRow[] = [
  // Change stream: filter → unmarshall → partition → gzip NDJSON, vs JSON.parse+stringify alone (the floor).
  // Two sizes show that memory does not grow with input.
  { file: 'change-stream.ts', variant: 'baseline', n: 1_000_000 },
  // DuckDB single-threaded building the same envelope (one gzip NDJSON file): the change path's bar.
  { file: 'change-stream.ts', variant: 'duckdb', n: 1_000_000 },
  { file: 'change-stream.ts', variant: 'pipeline', n: 250_000, anchorOf: 'baseline' },
  { file: 'change-stream.ts', variant: 'pipeline', n: 1_000_000, anchorOf: 'duckdb' },
  // Peak RSS must stay flat from 250k to 4M records.
  { file: 'change-stream.ts', variant: 'pipeline', n: 4_000_000, anchorOf: 'baseline' },
  // FHIR store: ingest through transaction bundles, then export.
  { file: 'fhir-store.ts', variant: 'baseline', n: 2_000 },
  { file: 'fhir-store.ts', variant: 'ingest', n: 2_000, anchorOf: 'baseline' },
  // Export reads the store the ingest row wrote (no anchor: the floor is an insert).
  { file: 'fhir-store.ts', variant: 'export', n: 2_000 },
  // The store alone (bundles processed in-process, no HTTP): what the store costs over the floor. It starts from an
  // empty store, so it runs after the export.
  { file: 'fhir-store.ts', variant: 'store', n: 2_000, anchorOf: 'baseline' },
  // Its bound: the rows the store wrote, inserted again into the same schema (SQLite alone), against the same floor.
  { file: 'fhir-store.ts', variant: 'schema-bound', n: 2_000, anchorOf: 'baseline' },
  // process-file over a large NDJSON file, vs DuckDB COPY … PARTITION_BY on the same file.
  { file: 'process-file.ts', variant: 'generate', n: 512 },
  { file: 'process-file.ts', variant: 'duckdb', n: 512 },
  { file: 'process-file.ts', variant: 'process-file', n: 512, anchorOf: 'duckdb' },
  // Its bound: gzip level 6 of the same output files alone (the lake's bytes are fixed), against the same anchor.
  { file: 'process-file.ts', variant: 'gzip-bound', n: 512, anchorOf: 'duckdb' },
  // The same at gzip level 1 (not the lake's level): what changing the lake's bytes would buy.
  { file: 'process-file.ts', variant: 'process-file-gzip1', n: 512, anchorOf: 'duckdb' },
  // Materialised views: the default views over 50k and 150k resources (peak RSS should not grow), against medplum's
  // evalSqlOnFhir on the same views and data (no output), then an incremental run touching 1% of the resources.
  { file: 'views.ts', variant: 'generate', n: 50_000 },
  { file: 'views.ts', variant: 'rebuild', n: 50_000 },
  { file: 'views.ts', variant: 'generate', n: 150_000 },
  { file: 'views.ts', variant: 'medplum', n: 150_000 },
  { file: 'views.ts', variant: 'engine', n: 150_000, anchorOf: 'medplum' },
  { file: 'views.ts', variant: 'rebuild', n: 150_000 },
  { file: 'views.ts', variant: 'incremental', n: 150_000 },
  // Write-to-queryable latency: SDK PutItem against `up` (flushSeconds 1) until the row is in the lake (goal p99 < 2 s).
  { file: 'latency.ts', variant: 'up', n: 200, fixedN: true, compare: 'latency' },
  // Query startup: `tributary query "SELECT 1"` spawn to exit, and opening the views in-process, vs node + DuckDB alone.
  { file: 'query-startup.ts', variant: 'generate', n: 20, fixedN: true },
  { file: 'query-startup.ts', variant: 'baseline', n: 5, fixedN: true },
  { file: 'query-startup.ts', variant: 'cli-demo', n: 5, fixedN: true, anchorOf: 'baseline', compare: 'latency' },
  { file: 'query-startup.ts', variant: 'cli', n: 5, fixedN: true, anchorOf: 'baseline', compare: 'latency' },
  { file: 'query-startup.ts', variant: 'cli-cold', n: 5, fixedN: true, anchorOf: 'baseline', compare: 'latency' },
  { file: 'query-startup.ts', variant: 'open-demo', n: 5, fixedN: true, compare: 'latency' },
  { file: 'query-startup.ts', variant: 'open', n: 5, fixedN: true, compare: 'latency' },
  { file: 'query-startup.ts', variant: 'open-sql', n: 5, fixedN: true, compare: 'latency' },
];

/** A case result with the plan row that produced it. */
export interface RowResult extends CaseResult {
  file: string;
  planVariant: string;
  n: number;
  anchorOf?: string;
  /** The ratio to the anchor (see {@link PlanRow.compare}); absent without an anchor result. */
  ratio?: number;
  /** What the ratio divides, e.g. `items/s ÷ anchor items/s`. */
  ratioOf?: string;
  /** For rows timing child processes: CPU p50 ÷ the anchor's CPU p50 (less disturbed by other load than wall time). */
  cpuRatio?: number;
}

const rate = (r: CaseResult) => r.items / r.seconds;

/**
 * Adds each result's ratio to its anchor's result from the same run: same file, the anchor variant, the same n if
 * there is one, else the nearest n. Results without an anchor (or whose anchor failed) get no ratio.
 *
 * @example
 * withRatios([{ ...baselineResult, file: 'a.ts', planVariant: 'baseline', n: 10 }, { ...fastResult, file: 'a.ts', planVariant: 'fast', n: 10, anchorOf: 'baseline' }])
 */
export function withRatios(results: RowResult[], rows: readonly PlanRow[] = plan): RowResult[] {
  return results.map((result) => {
    if (!result.anchorOf) return result;
    const anchors = results.filter((a) => a.file === result.file && a.planVariant === result.anchorOf);
    if (anchors.length === 0) return result;
    const anchor = anchors.reduce((best, a) => (Math.abs(a.n - result.n) < Math.abs(best.n - result.n) ? a : best));
    const compare = rows.find((r) => r.file === result.file && r.variant === result.planVariant)?.compare;
    if (compare === 'latency' && result.stats && anchor.stats)
      return {
        ...result,
        ratio: result.stats.p50 / anchor.stats.p50,
        ratioOf: `p50 ÷ ${anchor.planVariant} p50`,
        ...(result.cpu && anchor.cpu ? { cpuRatio: result.cpu.p50 / anchor.cpu.p50 } : {}),
      };
    return { ...result, ratio: rate(result) / rate(anchor), ratioOf: `items/s ÷ ${anchor.planVariant} items/s` };
  });
}

function gitShortSha(): string {
  const git = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: here, encoding: 'utf8' });
  const dirty = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: here, encoding: 'utf8' });
  const sha = git.status === 0 ? git.stdout.trim() : 'nogit';
  return dirty.status === 0 && dirty.stdout.trim() !== '' ? `${sha}-dirty` : sha;
}

/**
 * The environment of every case process. glibc's allocator as the Lambda functions are deployed
 * (infra/lib/lambda/tributary-function.ts): two arenas, where by default each thread that allocates (zlib on libuv's
 * pool) gets its own, which made peak RSS of one case vary by up to 45 MiB between runs. A value already set wins.
 */
const caseEnv = { ...process.env, MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2' };

async function main(): Promise<void> {
  mkdirSync(dataDir, { recursive: true });
  process.stderr.write(`bench: cases run with MALLOC_ARENA_MAX=${caseEnv.MALLOC_ARENA_MAX} (as deployed)\n`);
  const results: RowResult[] = [];
  const failed: Array<{ file: string; variant: string; n: number; exit: number | null }> = [];
  const started = new Date();
  for (const row of plan) {
    if (only && !row.file.startsWith(only)) continue;
    const n = row.fixedN ? row.n : Math.max(1, Math.round(row.n * scale));
    process.stderr.write(`bench: ${row.file} ${row.variant} n=${n} …\n`);
    const child = spawnSync(
      process.execPath,
      [
        '--expose-gc',
        '--import',
        'tsx',
        join(here, 'cases', row.file),
        '--variant',
        row.variant,
        '--n',
        String(n),
        '--dir',
        dataDir,
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024, env: caseEnv },
    );
    if (child.status !== 0) {
      process.stderr.write(`bench: ${row.file} ${row.variant} failed (exit ${child.status})\n${child.stdout}\n`);
      failed.push({ file: row.file, variant: row.variant, n, exit: child.status });
      process.exitCode = 1;
      continue;
    }
    for (const line of child.stdout.split('\n'))
      if (line.startsWith('BENCH '))
        results.push({
          ...(JSON.parse(line.slice(6)) as CaseResult),
          file: row.file,
          planVariant: row.variant,
          n,
          ...(row.anchorOf ? { anchorOf: row.anchorOf } : {}),
        });
  }

  const rated = withRatios(results);
  const ms = (x: number | undefined) => (x === undefined ? '' : x >= 100 ? x.toFixed(0) : x.toFixed(1));
  console.table(
    rated.map((r) => ({
      case: r.name,
      variant: r.variant,
      items: `${r.items.toLocaleString('en-US')} ${r.unit}`,
      seconds: r.seconds.toFixed(2),
      'items/s': r.stats ? '' : Math.round(rate(r)).toLocaleString('en-US'),
      'MiB/s': r.bytes ? (r.bytes / 1048576 / r.seconds).toFixed(1) : '',
      'p50/p95/p99/max ms': r.stats ? [r.stats.p50, r.stats.p95, r.stats.p99, r.stats.max].map(ms).join(' / ') : '',
      'CPU p50 ms': r.cpu ? ms(r.cpu.p50) : '',
      'peak RSS MiB': r.peakRssMiB.toFixed(0),
      anchor: r.anchorOf ?? '',
      ratio: r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}×`,
      'CPU ratio': r.cpuRatio === undefined ? '' : `${r.cpuRatio.toFixed(2)}×`,
    })),
  );
  for (const r of rated)
    if (r.ratioOf) process.stdout.write(`ratio ${r.name} ${r.planVariant} (n=${r.n}): ${r.ratioOf}\n`);

  if (process.env.BENCH_NO_SAVE) return;
  const sha = gitShortSha();
  const report = {
    format: 'tributary-bench/1',
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    git: sha,
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      totalMemMiB: Math.round(totalmem() / 1048576),
      platform: process.platform,
      arch: process.arch,
      node: process.version,
      mallocArenaMax: caseEnv.MALLOC_ARENA_MAX,
    },
    benchScale: scale,
    only: only ?? null,
    results: rated,
    failed,
  };
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${started.toISOString().replace(/[:.]/g, '-')}-${sha}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  process.stderr.write(`bench: results saved to ${file}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
