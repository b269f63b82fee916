/**
 * Distributed Map `ResultWriter` (s3:putObject): the child results written as AWS writes them, so code reading them
 * (the export's CompleteRun) runs unchanged against both. Layout under `<Prefix>/<map run id>/`:
 * `SUCCEEDED_<n>.json` and `FAILED_<n>.json` (JSON arrays of child executions, Transformation NONE), then
 * `manifest.json` listing them (`ResultFiles: {SUCCEEDED, FAILED, PENDING}` of `{Key, Size}`), written last.
 */

/** Default size at which a ResultWriter file is closed (AWS: 5 GB; one file is built in memory here). */
export const DEFAULT_RESULT_FILE_BYTES = 64 * 1024 * 1024;

/** One finished child execution of a Map run. */
export interface MapRunChildResult {
  /** Child execution name and ARN. */
  name: string;
  executionArn: string;
  /** The child's input (after ItemSelector / ItemBatcher). */
  input: unknown;
  succeeded: boolean;
  /** The child's output when it succeeded; `{Error, Cause?}` when it failed. */
  output: unknown;
}

/** Where and how to write one Map run's results. */
export interface WriteMapRunResultsOptions {
  bucket: string;
  /** `ResultWriter.Parameters.Prefix` (a trailing `/` is optional). */
  prefix?: string;
  mapRunArn: string;
  /** Last segment of the map run ARN: the folder of this run's files. */
  mapRunId: string;
  /** ARN of the child executions' state machine. */
  stateMachineArn: string;
  children: Iterable<MapRunChildResult>;
  /** A result file is closed once it reaches this size (AWS: 5 GB). */
  maxFileBytes: number;
  /** Writes one object (the bound s3:putObject handler). */
  put(key: string, body: string): Promise<void>;
}

/** What a Distributed Map with a ResultWriter returns instead of the child outputs. */
export interface ResultWriterOutput {
  MapRunArn: string;
  ResultWriterDetails: { Bucket: string; Key: string };
}

/** One entry of `ResultFiles` in manifest.json. */
interface ResultFileRef {
  Key: string;
  Size: number;
}

/**
 * Writes the result files and manifest.json of one Map run, and returns the Map state's result.
 *
 * @example
 * const out = await writeMapRunResults({ bucket: 'b', prefix: 'results', mapRunArn, mapRunId, stateMachineArn,
 *   children, maxFileBytes: 64 * 1024 * 1024, put: (key, body) => store.put(key, body) });
 * // out.ResultWriterDetails.Key === `results/${mapRunId}/manifest.json`
 */
export async function writeMapRunResults(options: WriteMapRunResultsOptions): Promise<ResultWriterOutput> {
  const trimmed = (options.prefix ?? '').replace(/\/+$/, '');
  const folder = `${trimmed ? `${trimmed}/` : ''}${options.mapRunId}/`;
  const files: Record<'SUCCEEDED' | 'FAILED', ResultFileRef[]> = { SUCCEEDED: [], FAILED: [] };
  const open: Record<'SUCCEEDED' | 'FAILED', { entries: string[]; bytes: number }> = {
    SUCCEEDED: { entries: [], bytes: 2 },
    FAILED: { entries: [], bytes: 2 },
  };
  const flush = async (status: 'SUCCEEDED' | 'FAILED'): Promise<void> => {
    const current = open[status];
    if (current.entries.length === 0) return;
    const key = `${folder}${status}_${files[status].length}.json`;
    const body = `[${current.entries.join(',')}]`;
    await options.put(key, body);
    files[status].push({ Key: key, Size: Buffer.byteLength(body, 'utf8') });
    open[status] = { entries: [], bytes: 2 };
  };
  for (const child of options.children) {
    const status = child.succeeded ? 'SUCCEEDED' : 'FAILED';
    const entry = JSON.stringify(resultEntry(child, options.stateMachineArn));
    const size = Buffer.byteLength(entry, 'utf8') + 1;
    if (open[status].entries.length > 0 && open[status].bytes + size > options.maxFileBytes) await flush(status);
    open[status].entries.push(entry);
    open[status].bytes += size;
  }
  await flush('SUCCEEDED');
  await flush('FAILED');
  // The manifest goes last: a reader that finds it finds every file it lists.
  const manifestKey = `${folder}manifest.json`;
  const manifest = {
    DestinationBucket: options.bucket,
    MapRunArn: options.mapRunArn,
    ResultFiles: { FAILED: files.FAILED, PENDING: [], SUCCEEDED: files.SUCCEEDED },
  };
  await options.put(manifestKey, JSON.stringify(manifest));
  return { MapRunArn: options.mapRunArn, ResultWriterDetails: { Bucket: options.bucket, Key: manifestKey } };
}

/** A child execution as AWS writes it without WriterConfig (Transformation NONE): input/output as JSON text. */
function resultEntry(child: MapRunChildResult, stateMachineArn: string): Record<string, unknown> {
  const base = {
    ExecutionArn: child.executionArn,
    Input: JSON.stringify(child.input ?? null),
    InputDetails: { Included: true },
    Name: child.name,
    RedriveCount: 0,
    RedriveStatus: 'NOT_REDRIVABLE',
    StateMachineArn: stateMachineArn,
  };
  if (child.succeeded)
    return {
      ...base,
      Output: JSON.stringify(child.output ?? null),
      OutputDetails: { Included: true },
      Status: 'SUCCEEDED',
    };
  const failure = (child.output ?? {}) as { Error?: unknown; Cause?: unknown };
  return {
    ...base,
    Status: 'FAILED',
    ...(failure.Error !== undefined ? { Error: failure.Error } : {}),
    ...(failure.Cause !== undefined ? { Cause: failure.Cause } : {}),
  };
}
