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
  work: () => Promise<{ items: number; bytes?: number }>,
): Promise<CaseResult> {
  const started = process.hrtime.bigint();
  const { items, bytes } = await work();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const result: CaseResult = {
    ...meta,
    items,
    ...(bytes !== undefined ? { bytes } : {}),
    seconds,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
  };
  process.stdout.write(`BENCH ${JSON.stringify(result)}\n`);
  return result;
}

/** Reads `--name value` style arguments of a case process. */
export function caseArgs(): { variant: string; n: number; dir: string } {
  const args = process.argv.slice(2);
  const get = (flag: string) => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  return { variant: get('--variant') ?? 'main', n: Number(get('--n') ?? '100000'), dir: get('--dir') ?? 'bench/.data' };
}
