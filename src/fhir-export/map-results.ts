/**
 * Reads what the ProcessFiles Distributed Map wrote with its ResultWriter (in AWS, and the same layout from the local
 * executor): `manifest.json`, then the `SUCCEEDED_n.json` / `FAILED_n.json` files it lists, one at a time, so
 * CompleteRun's memory and payload do not grow with the number of files.
 */
import { LedgerError } from './errors.js';
import { sumCounts } from './run-ledger.js';
import type { FailedFile, ProcessFileResult, RunCounts } from './types.js';

/** `ResultWriterDetails` of the Map: where its manifest.json is. */
export interface MapResultsLocation {
  Bucket: string;
  Key: string;
}

/** Reads an object (`undefined` when it does not exist). */
export type ReadObject = (bucket: string, key: string) => Promise<Uint8Array | undefined>;

/** Counts of one Map run, summed from its result files. */
export interface MapResultsSummary {
  /** Counts per resource type, summed over the succeeded files. */
  counts: RunCounts;
  /** Files processed (succeeded children). */
  files: number;
  /** Files whose processing failed within ToleratedFailurePercentage. */
  failedFiles: number;
  /** The first {@link MAX_FAILED_FILES_KEPT} failed files: which file, and why. */
  failed: FailedFile[];
}

/** Failed files named on the run record (the count is always exact); keeps the ledger item small. */
export const MAX_FAILED_FILES_KEPT = 20;
const MAX_CAUSE_CHARS = 500;

interface ResultFileRef {
  Key: string;
}
interface ResultManifest {
  DestinationBucket?: string;
  ResultFiles?: { SUCCEEDED?: ResultFileRef[]; FAILED?: ResultFileRef[]; PENDING?: ResultFileRef[] };
}
interface ChildEntry {
  Input?: unknown;
  Output?: unknown;
  Error?: unknown;
  Cause?: unknown;
}

/**
 * Sums a Map run's results from its ResultWriter output.
 *
 * @example
 * const summary = await summarizeMapResults({ Bucket: 'exports', Key: 'exports/map-results/<id>/manifest.json' },
 *   (bucket, key) => store(bucket).get(key));
 * // summary.counts.Patient.resources, summary.failedFiles
 */
export async function summarizeMapResults(location: MapResultsLocation, read: ReadObject): Promise<MapResultsSummary> {
  const manifest = (await readJson(read, location.Bucket, location.Key)) as ResultManifest;
  const bucket = location.Bucket;
  const summary: MapResultsSummary = { counts: {}, files: 0, failedFiles: 0, failed: [] };
  for (const file of manifest.ResultFiles?.SUCCEEDED ?? []) {
    const results: ProcessFileResult[] = [];
    for (const entry of await readEntries(read, bucket, file.Key)) {
      const output = parseText(entry.Output);
      if (isProcessFileResult(output)) results.push(output);
    }
    summary.files += results.length;
    addCounts(summary.counts, sumCounts(results));
  }
  for (const file of manifest.ResultFiles?.FAILED ?? []) {
    for (const entry of await readEntries(read, bucket, file.Key)) {
      summary.failedFiles++;
      if (summary.failed.length < MAX_FAILED_FILES_KEPT) summary.failed.push(failedFileOf(entry));
    }
  }
  return summary;
}

async function readJson(read: ReadObject, bucket: string, key: string): Promise<unknown> {
  const body = await read(bucket, key);
  if (!body) throw new LedgerError('Ledger.MapResultsNotFound', `Map results: no object s3://${bucket}/${key}`);
  try {
    return JSON.parse(Buffer.from(body).toString('utf8')) as unknown;
  } catch {
    throw new LedgerError('Ledger.MapResultsInvalid', `Map results: s3://${bucket}/${key} is not JSON`);
  }
}

async function readEntries(read: ReadObject, bucket: string, key: string): Promise<ChildEntry[]> {
  const entries = await readJson(read, bucket, key);
  if (!Array.isArray(entries))
    throw new LedgerError('Ledger.MapResultsInvalid', `Map results: s3://${bucket}/${key} is not a JSON array`);
  return entries as ChildEntry[];
}

/** Input and Output are JSON text in result files (Transformation NONE). */
function parseText(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return undefined;
  }
}

function isProcessFileResult(value: unknown): value is ProcessFileResult {
  const v = value as Partial<ProcessFileResult> | undefined;
  return typeof v === 'object' && v !== null && typeof v.type === 'string' && typeof v.key === 'string';
}

/** The child's input is the ItemSelector's `{item: {type, key, …}, runId, …}`. */
function failedFileOf(entry: ChildEntry): FailedFile {
  const input = parseText(entry.Input) as { item?: { type?: unknown; key?: unknown } } | undefined;
  const cause = typeof entry.Cause === 'string' ? entry.Cause.slice(0, MAX_CAUSE_CHARS) : undefined;
  return {
    type: typeof input?.item?.type === 'string' ? input.item.type : 'unknown',
    key: typeof input?.item?.key === 'string' ? input.item.key : 'unknown',
    error: typeof entry.Error === 'string' ? entry.Error : 'States.TaskFailed',
    ...(cause ? { cause } : {}),
  };
}

function addCounts(into: RunCounts, add: RunCounts): void {
  for (const [type, entry] of Object.entries(add)) {
    const target = (into[type] ??= { resources: 0, deleted: 0, errors: 0 });
    target.resources += entry.resources;
    target.deleted += entry.deleted;
    target.errors += entry.errors;
  }
}
