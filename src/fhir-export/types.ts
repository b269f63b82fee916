/** Types of the incremental FHIR export workflow (see /tmp/team/EXPORT_WORKFLOW.md). */

/** Status of an export job, as HealthLake names it (Bulk Data servers are mapped onto it). */
export type ExportJobStatus =
  | 'SUBMITTED'
  | 'QUEUED'
  | 'IN_PROGRESS'
  | 'COMPLETED'
  | 'COMPLETED_WITH_ERRORS'
  | 'FAILED'
  | 'CANCEL_SUBMITTED'
  | 'CANCEL_IN_PROGRESS'
  | 'CANCEL_COMPLETED'
  | 'CANCEL_FAILED';

/** Every {@link ExportJobStatus}, for checking a name a server sent. */
export const EXPORT_JOB_STATUSES: readonly ExportJobStatus[] = [
  'SUBMITTED',
  'QUEUED',
  'IN_PROGRESS',
  'COMPLETED',
  'COMPLETED_WITH_ERRORS',
  'FAILED',
  'CANCEL_SUBMITTED',
  'CANCEL_IN_PROGRESS',
  'CANCEL_COMPLETED',
  'CANCEL_FAILED',
];

/**
 * Whether a value is an {@link ExportJobStatus} name.
 *
 * @example
 * isExportJobStatus('COMPLETED') // true
 */
export function isExportJobStatus(value: unknown): value is ExportJobStatus {
  return typeof value === 'string' && (EXPORT_JOB_STATUSES as readonly string[]).includes(value);
}

/** Statuses that mean "ask again later". */
export const RUNNING_STATUSES: readonly ExportJobStatus[] = ['SUBMITTED', 'QUEUED', 'IN_PROGRESS'];

/** What `startExport` is asked to export. */
export interface StartExportRequest {
  /** Run id (= execution name): the idempotency key. */
  runId: string;
  /** `_since` (ISO-8601), or `null` for the first, full export. */
  since: string | null;
  /** `_type` filter; empty or undefined = every type. */
  types?: readonly string[];
  /** Where the source should write its output (HealthLake `S3Uri`); sources may have a default. */
  outputS3Uri?: string;
}

/** A started export job. */
export interface ExportJobRef {
  jobId: string;
  /** Polling URL (Bulk Data `Content-Location`). */
  statusUrl?: string;
  /** The run that started it. */
  runId?: string;
}

/** One file listed by a Bulk Data manifest. */
export interface ManifestFile {
  type: string;
  url: string;
  count?: number;
}

/** The completed export's manifest (Bulk Data v2 shape, with `deleted`). */
export interface ExportManifest {
  transactionTime: string;
  /** Bulk Data `requiresAccessToken`: file URLs need the Bearer token (absent = they must not get it). */
  requiresAccessToken?: boolean;
  output: ManifestFile[];
  deleted: ManifestFile[];
  error: ManifestFile[];
}

/** Answer of `describeExport`. */
export interface ExportJobDescription {
  status: ExportJobStatus;
  /** Seconds the server asked us to wait (Retry-After). */
  retryAfterSeconds?: number;
  /** Free-text progress (X-Progress), e.g. `"42%"`. */
  progress?: string;
  /** Present once COMPLETED or COMPLETED_WITH_ERRORS. URLs are located with {@link FhirExportSource.locate}. */
  manifest?: ExportManifest;
  /** Server message for FAILED/CANCEL_* (no PHI: server diagnostics only). */
  message?: string;
}

/** Bucket and key of an exported file. */
export interface ObjectLocation {
  bucket: string;
  key: string;
}

/**
 * Port: a FHIR store that can export incrementally (HealthLake, a Bulk Data v2 server, the embedded datastore).
 *
 * @example
 * const job = await source.startExport({ runId: 'run-1', since: null });
 * const { status, manifest } = await source.describeExport(job);
 */
export interface FhirExportSource {
  /** Starts an export; calling it again with the same `runId` returns the same job. */
  startExport(request: StartExportRequest): Promise<ExportJobRef>;
  /** Describes a job. Throws {@link TransientExportError} when the answer is worth retrying. */
  describeExport(job: ExportJobRef): Promise<ExportJobDescription>;
  /** Maps a manifest URL to the object it names. */
  locate(url: string): ObjectLocation;
  /** Best-effort cancel (used when the workflow gives up). */
  cancelExport?(job: ExportJobRef): Promise<void>;
}

/**
 * Kind of a manifest item: exported resources, Bundles of deletions, or the export's error file (OperationOutcome
 * lines, landed under `_errors/fhir-export/`).
 */
export type ManifestItemKind = 'output' | 'deleted' | 'error';

/** One line of the manifest array written by check-export and read by the Distributed Map. */
export interface ManifestItem {
  bucket: string;
  key: string;
  type: string;
  kind: ManifestItemKind;
  count?: number;
}

/** One error file of an export that completed with errors (recorded on the run; content never read). */
export interface ExportErrorFile {
  type: string;
  bucket?: string;
  key?: string;
  url?: string;
  count?: number;
}

/** Error files of an export (always present in the task output; empty when there are none). */
export type ExportErrors = ExportErrorFile[];

/** Input of one Distributed Map child: a manifest item plus the run's ids. */
export interface ProcessFileInput extends ManifestItem {
  jobId: string;
  runId: string;
  transactionTime: string;
}

/** Output of process-file (what the Map collects and CompleteRun sums). */
export interface ProcessFileResult {
  type: string;
  kind: ManifestItemKind;
  key: string;
  /** Resources landed (output files). */
  resources: number;
  /** Tombstones landed (deleted files). */
  deleted: number;
  /** Lines sent to `_errors`: malformed lines, and for `error` files every OperationOutcome the export reported. */
  errors: number;
  /** Lake objects written. */
  files: number;
  /** Tombstones per resource type (deleted files hold Bundles of many types). */
  deletedByType?: Record<string, number>;
  /** Malformed lines per resource type when it could be told. */
  errorsByType?: Record<string, number>;
}

/** Counts per resource type kept on the run record. */
export type RunCounts = Record<string, { resources: number; deleted: number; errors: number }>;

/** A file ProcessFiles could not land (a tolerated Map failure): not in the lake, still in the export bucket. */
export interface FailedFile {
  type: string;
  key: string;
  error: string;
  cause?: string;
}

/**
 * Status of a run in the ledger. `COMPLETED_WITH_ERRORS`: the run landed what was exported and advanced the
 * watermark, but the export reported error files or lines were rejected (both under `_errors/fhir-export/`).
 */
export type RunStatus = 'RUNNING' | 'COMPLETED' | 'COMPLETED_WITH_ERRORS' | 'FAILED' | 'SKIPPED';

/** A run record (`pk:'RUN', sk:<runId>`). */
export interface RunRecord {
  runId: string;
  status: RunStatus;
  since: string | null;
  startedAt: string;
  endedAt?: string;
  executionArn: string;
  jobId?: string;
  transactionTime?: string;
  counts?: RunCounts;
  error?: string;
  cause?: string;
  exportErrors?: ExportErrors;
  /** The run whose lock this run took over (its owner had died or ended without releasing it), and why. */
  tookOverFrom?: { runId: string; cause: string };
  /** Files that failed within ToleratedFailurePercentage: their count, and the first few. */
  failedFiles?: { count: number; files: FailedFile[] };
}

/** The lock item (`pk:'LOCK', sk:'export'`). */
export interface LockRecord {
  owner: string;
  runId: string;
  leaseUntil: number;
  acquiredAt: string;
}

/** The watermark item (`pk:'WATERMARK', sk:'export'`). */
export interface WatermarkRecord {
  transactionTime: string;
  runId: string;
}

/** Message on the start-export queue. */
export interface StartExportMessage {
  taskToken: string;
  runId: string;
  since: string | null;
  executionArn: string;
}

/** Message on the recheck queue. */
export interface CheckExportMessage {
  taskToken: string;
  runId: string;
  jobId: string;
  statusUrl?: string;
  attempt: number;
  /** ISO time of the first check: the max-wait clock starts here. */
  firstCheckAt: string;
  /** Consecutive describe failures (transient errors are retried a few times). */
  describeErrors?: number;
}

/**
 * The other message on the recheck queue: cancel a failed run's job on the server (best effort). The AWS run ledger
 * sends it, holding no FHIR credentials; check-export, which holds them, cancels. It has no task token.
 */
export interface CancelExportMessage {
  action: 'cancel';
  runId: string;
  jobId: string;
  statusUrl?: string;
}

/** Output of the callback task (SendTaskSuccess), read by the Map's ItemReader and CompleteRun. */
export interface ExportTaskOutput {
  bucket: string;
  manifestKey: string;
  transactionTime: string;
  jobId: string;
  exportErrors: ExportErrors;
}
