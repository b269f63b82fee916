import type { Database, Statement } from 'better-sqlite3';
import type { ObjectStore } from '../../ports/object-store.js';
import { operationOutcome } from './fhir-documents.js';
import { patientCompartmentTypes } from './r4-definitions.js';
import type { ExportFaults, ExportFile, ExportJob } from './types.js';

/**
 * Raised inside an export when the job was cancelled or the server is stopping.
 *
 * @example
 * if (cancelled) throw new ExportInterruptedError(`export job ${jobId} interrupted`);
 */
export class ExportInterruptedError extends Error {
  public override readonly name = 'ExportInterruptedError';
}

/** What a job writes and where. */
export interface ExportWriteContext {
  /** A connection used only for this export's reads (WAL lets it read while others write). */
  readDb: Database;
  store: ObjectStore;
  job: ExportJob & { cutSeq: number };
  datastoreId: string;
  /** Base URL of the FHIR server; file URLs are `<base>/export/<jobId>/files/<path>`. */
  baseUrl: string;
  maxResourcesPerFile: number;
  faults: ExportFaults;
  /** Throws {@link ExportInterruptedError} when the job must stop. */
  checkInterrupted: () => void;
  /** Reports progress after each file. */
  onProgress: (filesWritten: number, resourcesWritten: number) => void;
}

/** The manifest lists an export produced. */
export interface ExportWriteResult {
  output: ExportFile[];
  deleted: ExportFile[];
  error: ExportFile[];
}

const CHUNK_BYTES = 256 * 1024;

/**
 * The folder of a job's files inside the bucket, HealthLake style:
 * `<prefix>/<datastoreId>-FHIR_EXPORT-<jobId>`.
 *
 * @example
 * exportFolder('exports', 'ds1', 'job1') // 'exports/ds1-FHIR_EXPORT-job1'
 */
export function exportFolder(prefix: string, datastoreId: string, jobId: string): string {
  const folder = `${datastoreId}-FHIR_EXPORT-${jobId}`;
  return prefix ? `${prefix}/${folder}` : folder;
}

/**
 * The latest version `<= cut` of each resource of a type changed after `since`, deleted or not.
 * The newer-version probe goes through the (type, id, version_id) key, so it costs one seek per row.
 */
function latestVersionsQuery(db: Database, deleted: boolean, withSince: boolean): Statement {
  return db.prepare(
    `SELECT r.type, r.id, r.json FROM resources r
     WHERE r.type = ? AND r.tx_seq <= ? AND r.deleted = ${deleted ? 1 : 0} ${withSince ? 'AND r.last_updated > ?' : ''}
       AND NOT EXISTS (SELECT 1 FROM resources n WHERE n.type = r.type AND n.id = r.id AND n.version_id > r.version_id AND n.tx_seq <= ?)
     ORDER BY r.tx_seq`,
  );
}

/** Resource types present in the store, found by skipping through the type index (no full scan). */
function storedTypes(db: Database): string[] {
  const next = db.prepare('SELECT MIN(type) AS type FROM resources WHERE type > ?');
  const types: string[] = [];
  let current = (next.get('') as { type: string | null }).type;
  while (current !== null) {
    types.push(current);
    current = (next.get(current) as { type: string | null }).type;
  }
  return types;
}

/**
 * Streams a job's window `(since, cut]` to NDJSON files, one resource type per file and at
 * most `maxResourcesPerFile` lines each. Rows are iterated from SQLite and written with
 * backpressure, so memory does not grow with the datastore. Deletions in the window go to
 * `_deleted/Bundle-<n>.ndjson` as Bulk Data v2 `deleted` Bundles.
 *
 * @example
 * const { output, deleted } = await writeExportFiles(context);
 */
export async function writeExportFiles(context: ExportWriteContext): Promise<ExportWriteResult> {
  const { job, readDb } = context;
  const wanted = job.types.length > 0 ? job.types : storedTypes(readDb);
  const compartment = job.level === 'patient' ? patientCompartmentTypes() : undefined;
  const types = wanted.filter((type) => !compartment || compartment.has(type));
  const folder = exportFolder(job.prefix, context.datastoreId, job.jobId);
  const result: ExportWriteResult = { output: [], deleted: [], error: [] };
  const tally = { files: 0, resources: 0 };
  const withSince = job.since !== undefined;
  const args = (type: string): unknown[] =>
    withSince ? [type, job.cutSeq, job.since, job.cutSeq] : [type, job.cutSeq, job.cutSeq];
  const liveQuery = latestVersionsQuery(readDb, false, withSince);
  const deletedQuery = latestVersionsQuery(readDb, true, withSince);
  const failedTypes: string[] = [];

  for (const type of types) {
    if (context.faults.errorTypes?.includes(type)) {
      failedTypes.push(type);
      continue;
    }
    const rows = liveQuery.iterate(...args(type)) as IterableIterator<{ json: string }>;
    result.output.push(...(await writeFiles(context, folder, type, type, rows, (row) => row.json, tally)));
  }
  const deletedRows = (function* () {
    for (const type of types)
      yield* deletedQuery.iterate(...args(type)) as IterableIterator<{ type: string; id: string }>;
  })();
  result.deleted.push(
    ...(await writeFiles(
      context,
      folder,
      '_deleted',
      'Bundle',
      deletedRows,
      (row) => JSON.stringify(deletedBundle(row.type, row.id)),
      tally,
    )),
  );
  if (failedTypes.length > 0) {
    const outcomes = failedTypes.map((type) => ({ type }))[Symbol.iterator]();
    result.error.push(
      ...(await writeFiles(
        context,
        folder,
        '_errors',
        'OperationOutcome',
        outcomes,
        (row) =>
          JSON.stringify(operationOutcome('error', 'exception', `export of ${row.type} failed (injected fault)`)),
        tally,
      )),
    );
  }
  return result;
}

function deletedBundle(type: string, id: string): Record<string, unknown> {
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [{ request: { method: 'DELETE', url: `${type}/${id}` } }],
  };
}

/** Writes rows into numbered files of at most `maxResourcesPerFile` lines; returns the manifest items. */
async function writeFiles<Row>(
  context: ExportWriteContext,
  folder: string,
  directory: string,
  fileType: string,
  rows: Iterator<Row>,
  toLine: (row: Row) => string,
  tally: { files: number; resources: number },
): Promise<ExportFile[]> {
  const files: ExportFile[] = [];
  let pending = rows.next();
  try {
    while (!pending.done) {
      context.checkInterrupted();
      const fileNumber = files.length + 1;
      if (context.faults.delayPerFileMs)
        await new Promise((resolve) => setTimeout(resolve, context.faults.delayPerFileMs));
      await context.faults.beforeFile?.({ jobId: context.job.jobId, type: fileType, fileNumber });
      context.checkInterrupted();
      const relative = `${directory}/${fileType}-${fileNumber}.ndjson`;
      const key = `${folder}/${relative}`;
      let count = 0;
      const lines = async function* (): AsyncGenerator<Buffer> {
        let buffered: string[] = [];
        let size = 0;
        while (!pending.done && count < context.maxResourcesPerFile) {
          const line = toLine(pending.value);
          buffered.push(line, '\n');
          size += line.length + 1;
          count += 1;
          pending = rows.next();
          if (size >= CHUNK_BYTES) {
            context.checkInterrupted();
            yield Buffer.from(buffered.join(''));
            buffered = [];
            size = 0;
          }
        }
        if (buffered.length > 0) yield Buffer.from(buffered.join(''));
      };
      await context.store.put(key, lines(), { contentType: 'application/fhir+ndjson' });
      tally.files += 1;
      tally.resources += count;
      context.onProgress(tally.files, tally.resources);
      files.push({
        type: fileType,
        url: `${context.baseUrl}/export/${context.job.jobId}/files/${relative}`,
        count,
        extension: { tributary: { bucket: context.job.bucket, key, s3Uri: `s3://${context.job.bucket}/${key}` } },
      });
    }
  } finally {
    // Closes the SQLite cursor when the job stops early.
    rows.return?.();
  }
  return files;
}
