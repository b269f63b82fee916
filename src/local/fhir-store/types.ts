import type { Clock } from '../../ports/clock.js';
import type { ObjectStore } from '../../ports/object-store.js';

/** A FHIR resource as plain JSON. Only `resourceType`, `id` and `meta` are interpreted by the store. */
export interface FhirResource {
  resourceType: string;
  id?: string;
  meta?: { versionId?: string; lastUpdated?: string; [key: string]: unknown };
  [key: string]: unknown;
}

/** One stored version of a resource. */
export interface StoredVersion {
  type: string;
  id: string;
  versionId: number;
  /** ISO-8601 UTC instant with milliseconds. */
  lastUpdated: string;
  /** Position in the store's global write order; strictly increasing. */
  txSeq: number;
  deleted: boolean;
  /** The resource with `meta.versionId`/`meta.lastUpdated` set; absent for deleted versions. */
  resource?: FhirResource;
}

/** Result of a write: what happened and the version now current. */
export interface WriteOutcome {
  /** `created` (201), `updated` (200), `existing` (conditional create matched, 200), `deleted` (204/200). */
  outcome: 'created' | 'updated' | 'existing' | 'deleted' | 'unchanged';
  version: StoredVersion;
}

/** Export job status, as HealthLake names them. */
export type ExportJobStatus =
  | 'SUBMITTED'
  | 'QUEUED'
  | 'IN_PROGRESS'
  | 'COMPLETED_WITH_ERRORS'
  | 'COMPLETED'
  | 'FAILED'
  | 'CANCEL_SUBMITTED'
  | 'CANCEL_IN_PROGRESS'
  | 'CANCEL_COMPLETED'
  | 'CANCEL_FAILED';

/** One file of an export manifest (Bulk Data `output`, `deleted` or `error` item). */
export interface ExportFile {
  type: string;
  url: string;
  count: number;
  /** Where the file lives in the local S3 stand-in, so a workflow can read it by key. */
  extension: { tributary: { bucket: string; key: string; s3Uri: string } };
}

/** A persisted export job. */
export interface ExportJob {
  jobId: string;
  jobName?: string;
  status: ExportJobStatus;
  /** `system` for `$export` and the control plane, `patient` for `Patient/$export`. */
  level: 'system' | 'patient';
  submitTime: string;
  endTime?: string;
  /** Exclusive lower bound on `lastUpdated` (ISO instant), from `_since`. */
  since?: string;
  /** Resource types to export; empty means all. */
  types: string[];
  outputFormat: string;
  /** The kick-off URL, echoed as the manifest's `request`. */
  request: string;
  bucket: string;
  /** Key prefix inside the bucket, without trailing slash; may be empty. */
  prefix: string;
  kmsKeyId?: string;
  dataAccessRoleArn?: string;
  clientToken?: string;
  /** Snapshot of the write sequence taken when the job started. */
  cutSeq?: number;
  /** The instant matching {@link cutSeq}: the right `_since` for the next export. */
  transactionTime?: string;
  progress?: string;
  message?: string;
  output: ExportFile[];
  deleted: ExportFile[];
  error: ExportFile[];
}

/**
 * Test hooks for failure-injection tests. The object is live: tests may change
 * fields on {@link FhirServer.exportFaults} between jobs.
 */
export interface ExportFaults {
  /** Fail the next job that starts (then reset to false). A string becomes the job's message. */
  failNextExport?: boolean | string;
  /** Sleep this long before writing each file (makes jobs slow enough to observe, cancel or race). */
  delayPerFileMs?: number;
  /** Sleep this long after a job is picked up, before its cut is taken. */
  delayBeforeStartMs?: number;
  /** Resource types whose export is reported in `error[]`; the job ends COMPLETED_WITH_ERRORS. */
  errorTypes?: string[];
  /** Called before each file is written; throwing fails the job with the error's message. */
  beforeFile?: (context: { jobId: string; type: string; fileNumber: number }) => void | Promise<void>;
  /**
   * Shape of a completed job's answers. `bulk-data` (default): the status is the Bulk Data manifest (`transactionTime`,
   * `output[]`, …) plus `exportJobProperties`. `job-properties`: only HealthLake's documented `exportJobProperties`,
   * whose `s3Uri` names the job's folder, as HealthLake may answer; `DescribeFHIRExportJob` then also reports `S3Uri`
   * with the folder appended.
   */
  statusShape?: ExportStatusShape;
}

/** See {@link ExportFaults.statusShape}. */
export type ExportStatusShape = 'bulk-data' | 'job-properties';

/** Options of {@link startFhirServer}. */
export interface FhirServerOptions {
  /** SQLite file of the datastore, e.g. `stateDirPaths(dir).fhir`. */
  dbFile: string;
  /** Object store for an export bucket, e.g. `b => new DirectoryObjectStore(join(paths.buckets, b))`. */
  exportStore: (bucket: string) => ObjectStore;
  /** Interface to bind; default `127.0.0.1`. */
  host?: string;
  /** Port; default 0 (ephemeral). */
  port?: number;
  /** Region reported in ARNs; default `us-east-1`. */
  region?: string;
  /** Account reported in ARNs; default `000000000000`. */
  accountId?: string;
  /** Datastore id; default a random 32-hex id generated once and persisted in the database. */
  datastoreId?: string;
  /** Largest accepted request body; default 16 MiB. */
  maxBodyBytes?: number;
  /** Largest number of resources per exported NDJSON file; default 10 000. */
  exportMaxResourcesPerFile?: number;
  /** Bucket used when a kick-off names no S3 output; default `tributary-export`. */
  exportBucket?: string;
  /** Failure-injection hooks for exports. */
  exportFaults?: ExportFaults;
  /** Clock for `lastUpdated` and job times; default the system clock. */
  clock?: Clock;
}

/** A running embedded FHIR server. */
export interface FhirServer {
  /** FHIR R4 base URL, HealthLake shape: `http://127.0.0.1:<port>/datastore/<id>/r4`. */
  fhirBaseUrl: string;
  /** Endpoint for `@aws-sdk/client-healthlake` (`endpoint` override). */
  healthlakeEndpoint: string;
  datastoreId: string;
  /** Live failure-injection hooks (see {@link ExportFaults}). */
  exportFaults: ExportFaults;
  /** Resolves when no export job is running or queued (handy in tests). */
  whenExportsIdle(): Promise<void>;
  /** Stops accepting requests, stops the export runner and closes the database. */
  close(): Promise<void>;
}
