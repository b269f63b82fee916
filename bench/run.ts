/**
 * `npm run bench`: runs every benchmark case in its own process (so peak RSS is per case), next to its
 * baseline in the same run, and prints throughput and peak memory.
 *
 * Sizes scale with BENCH_SCALE (default 1; e.g. BENCH_SCALE=0.1 for a quick look).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { CaseResult } from './measure.js';

const here = dirname(fileURLToPath(import.meta.url));
const dataDir = join(here, '.data');
mkdirSync(dataDir, { recursive: true });
const scale = Number(process.env.BENCH_SCALE ?? '1');
const only = process.argv[2];

interface Run {
  file: string;
  variant: string;
  n: number;
}

const plan: Run[] = [
  // Change stream: filter → unmarshall → partition → gzip NDJSON, vs JSON.parse+stringify alone (the floor).
  // Two sizes show that memory does not grow with input.
  { file: 'change-stream.ts', variant: 'baseline', n: 1_000_000 },
  { file: 'change-stream.ts', variant: 'pipeline', n: 250_000 },
  { file: 'change-stream.ts', variant: 'pipeline', n: 1_000_000 },
  // FHIR store: ingest through transaction bundles, then export.
  { file: 'fhir-store.ts', variant: 'baseline', n: 2_000 },
  { file: 'fhir-store.ts', variant: 'ingest', n: 2_000 },
  { file: 'fhir-store.ts', variant: 'export', n: 2_000 },
  // process-file over a large NDJSON file, vs DuckDB COPY … PARTITION_BY on the same file.
  { file: 'process-file.ts', variant: 'generate', n: 512 },
  { file: 'process-file.ts', variant: 'duckdb', n: 512 },
  { file: 'process-file.ts', variant: 'process-file', n: 512 },
  // Materialised views: the default views over 50k and 150k resources (peak RSS should not grow), against medplum's
  // evalSqlOnFhir on the same views and data (no output), then an incremental run touching 1% of the resources.
  { file: 'views.ts', variant: 'generate', n: 50_000 },
  { file: 'views.ts', variant: 'rebuild', n: 50_000 },
  { file: 'views.ts', variant: 'generate', n: 150_000 },
  { file: 'views.ts', variant: 'medplum', n: 150_000 },
  { file: 'views.ts', variant: 'engine', n: 150_000 },
  { file: 'views.ts', variant: 'rebuild', n: 150_000 },
  { file: 'views.ts', variant: 'incremental', n: 150_000 },
];

const results: CaseResult[] = [];
for (const run of plan) {
  if (only && !run.file.startsWith(only)) continue;
  const n = Math.max(1, Math.round(run.n * scale));
  process.stderr.write(`bench: ${run.file} ${run.variant} n=${n} …\n`);
  const child = spawnSync(
    process.execPath,
    [
      '--expose-gc',
      '--import',
      'tsx',
      join(here, 'cases', run.file),
      '--variant',
      run.variant,
      '--n',
      String(n),
      '--dir',
      dataDir,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 },
  );
  if (child.status !== 0) {
    process.stderr.write(`bench: ${run.file} ${run.variant} failed (exit ${child.status})\n${child.stdout}\n`);
    process.exitCode = 1;
    continue;
  }
  for (const line of child.stdout.split('\n'))
    if (line.startsWith('BENCH ')) results.push(JSON.parse(line.slice(6)) as CaseResult);
}

const rows = results.map((r) => ({
  case: r.name,
  variant: r.variant,
  items: `${r.items.toLocaleString('en-US')} ${r.unit}`,
  seconds: r.seconds.toFixed(2),
  'items/s': Math.round(r.items / r.seconds).toLocaleString('en-US'),
  'MiB/s': r.bytes ? (r.bytes / 1048576 / r.seconds).toFixed(1) : '',
  'peak RSS MiB': r.peakRssMiB.toFixed(0),
}));
console.table(rows);
