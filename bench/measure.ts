/** Percentiles of a set of timings, milliseconds. */
export interface LatencyStats {
  /** Number of samples. */
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  min: number;
  mean: number;
}

/** What one benchmark case prints (one JSON line on stdout) for the runner to collect. */
export interface CaseResult {
  /** Case name, e.g. `change-stream`. */
  name: string;
  /** Variant within the case, e.g. `pipeline` or `baseline: JSON.parse+stringify`. */
  variant: string;
  /** Work items processed (records, resources). */
  items: number;
  /** Unit of the items. */
  unit: string;
  /** Bytes of input processed, when meaningful. */
  bytes?: number;
  seconds: number;
  /** Peak resident set size of the process, MiB (process.resourceUsage().maxRSS). */
  peakRssMiB: number;
  /** For latency-style cases: per-item timings, milliseconds (the ratio then compares p50s). */
  stats?: LatencyStats;
  /** For cases timing child processes: their CPU time (user + system) per item, milliseconds. */
  cpu?: LatencyStats;
}

/**
 * Percentiles (nearest rank) of timings in milliseconds.
 *
 * @example
 * summarise([10, 20, 30]) // { count: 3, p50: 20, p95: 30, p99: 30, max: 30, min: 10, mean: 20 }
 */
export function summarise(samplesMs: readonly number[]): LatencyStats {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const at = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    count: sorted.length,
    p50: round(at(50)),
    p95: round(at(95)),
    p99: round(at(99)),
    max: round(sorted.at(-1) ?? NaN),
    min: round(sorted[0] ?? NaN),
    mean: round(sorted.reduce((s, x) => s + x, 0) / Math.max(1, sorted.length)),
  };
}

/**
 * Times `work` and reports it as one JSON line on stdout. Each variant runs in its own process
 * (see bench/run.ts), so peak RSS belongs to that variant alone.
 *
 * @example
 * await measure({ name: 'x', variant: 'fast', unit: 'records' }, async () => ({ items: 10 }));
 */
export async function measure(
  meta: { name: string; variant: string; unit: string },
  work: () => Promise<{ items: number; bytes?: number; stats?: LatencyStats; cpu?: LatencyStats }>,
): Promise<CaseResult> {
  const started = process.hrtime.bigint();
  const { items, bytes, stats, cpu } = await work();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const result: CaseResult = {
    ...meta,
    items,
    ...(bytes !== undefined ? { bytes } : {}),
    seconds,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    ...(stats ? { stats } : {}),
    ...(cpu ? { cpu } : {}),
  };
  process.stdout.write(`BENCH ${JSON.stringify(result)}\n`);
  return result;
}

/**
 * Reads `--name value` style arguments of a case process.
 *
 * @example
 * const { variant, n, dir } = caseArgs(); // from `--variant pipeline --n 1000 --dir bench/.data`
 */
export function caseArgs(): { variant: string; n: number; dir: string } {
  const args = process.argv.slice(2);
  const get = (flag: string) => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  return { variant: get('--variant') ?? 'main', n: Number(get('--n') ?? '100000'), dir: get('--dir') ?? 'bench/.data' };
}
