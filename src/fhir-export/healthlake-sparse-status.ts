import type { ObjectStore } from '../ports/object-store.js';
import { parseManifest } from './bulk-data-protocol.js';
import { ExportProtocolError } from './errors.js';
import { exportJobFolder, readJobProperties, type HealthLakeJobProperties } from './healthlake-job-properties.js';
import { manifestFilesFromListing, type ListedManifestFiles } from './listing-manifest.js';
import { parseS3Prefix } from './locate.js';
import type { ExportJobDescription } from './types.js';

/** What filling in a sparse HealthLake answer needs. */
export interface SparseStatusContext {
  jobId: string;
  /** Datastore id, when the answer does not name it. */
  datastoreId?: string;
  /** The `S3Uri` the export was started with, when the answer does not name it. */
  outputS3Uri: string;
  /** Store of a bucket: lists the job's folder when the answer has no `output[]`. */
  exportStore?: (bucket: string) => ObjectStore;
}

/**
 * Fills what HealthLake's documented job properties may leave out of a completed `$export` status answer:
 * `transactionTime` from `exportJobProperties.submitTime` (safe for `_since`: the export's cut is at or after it), and
 * `output[]`/`deleted[]`/`error[]` from listing the job's folder `<S3Uri>/<datastoreId>-FHIR_EXPORT-<jobId>/`. Fields
 * that are present are kept as they are; an answer that is not a completed one is returned unchanged.
 *
 * @example
 * const body = await completeSparseStatus(await response.json(), { jobId, outputS3Uri, exportStore });
 */
export async function completeSparseStatus(body: unknown, context: SparseStatusContext): Promise<unknown> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return body;
  const record = body as Record<string, unknown>;
  const props = readJobProperties(record.exportJobProperties);
  if (props.status && props.status !== 'COMPLETED' && props.status !== 'COMPLETED_WITH_ERRORS') return body;
  const needsTime = typeof record.transactionTime !== 'string';
  const needsFiles = record.output === undefined;
  if (!needsTime && !needsFiles) return body;
  if (needsTime && !props.submitTime) return body; // nothing to fall back on: the manifest check reports it
  const listed = needsFiles ? await listJobFiles(props, context) : undefined;
  return {
    ...record,
    ...(needsTime ? { transactionTime: props.submitTime } : {}),
    ...(listed
      ? {
          output: listed.output,
          ...(record.deleted === undefined ? { deleted: listed.deleted } : {}),
          ...(record.error === undefined ? { error: listed.error } : {}),
        }
      : {}),
  };
}

/**
 * The description of a job from the control plane's `DescribeFHIRExportJob` (never a transactionTime or output list):
 * a completed job's manifest is built from its folder, with `transactionTime` = `SubmitTime`.
 *
 * @example
 * const description = await describeFromJobProperties(await describeControlPlaneExport(control, jobId), context);
 */
export async function describeFromJobProperties(
  props: HealthLakeJobProperties,
  context: SparseStatusContext,
): Promise<ExportJobDescription> {
  const status = props.status;
  if (!status) throw new ExportProtocolError(`DescribeFHIRExportJob gave no known status for job ${context.jobId}`);
  if (status !== 'COMPLETED' && status !== 'COMPLETED_WITH_ERRORS') {
    return { status, ...(props.message ? { message: props.message } : {}) };
  }
  if (!props.submitTime) throw new ExportProtocolError(`job ${context.jobId} completed without a SubmitTime`);
  const listed = await listJobFiles(props, context);
  const manifest = parseManifest({ transactionTime: props.submitTime, ...listed });
  return { status, manifest, ...(props.message ? { message: props.message } : {}) };
}

async function listJobFiles(
  props: HealthLakeJobProperties,
  context: SparseStatusContext,
): Promise<ListedManifestFiles> {
  const datastoreId = props.datastoreId ?? context.datastoreId;
  if (!context.exportStore || !datastoreId) {
    throw new ExportProtocolError(
      `job ${context.jobId} completed without output[] and its S3 folder cannot be listed (no export store or datastore id)`,
    );
  }
  const folder = parseS3Prefix(exportJobFolder(props.outputS3Uri ?? context.outputS3Uri, datastoreId, context.jobId));
  const keys: string[] = [];
  for await (const object of context.exportStore(folder.bucket).list(folder.prefix)) keys.push(object.key);
  return manifestFilesFromListing({ bucket: folder.bucket, key: folder.prefix }, keys);
}
