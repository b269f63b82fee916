import { ListFHIRExportJobsCommand, type HealthLakeClient } from '@aws-sdk/client-healthlake';
import type { ObjectStore } from '../ports/object-store.js';
import { kickoffUrl, kickOffExport, readStatusResponse, type FetchLike } from './bulk-data-protocol.js';
import { ExportWorkflowError, TransientExportError } from './errors.js';
import { requestFailure } from './request-failure.js';
import type { RetryPolicy, RetryRuntime } from './retry-policy.js';
import { describeControlPlaneExport, startControlPlaneExport } from './healthlake-control-plane-jobs.js';
import {
  completeSparseStatus,
  describeFromJobProperties,
  type SparseStatusContext,
} from './healthlake-sparse-status.js';
import type { ExportJobRegistry } from './job-registry.js';
import { locateExportUrl } from './locate.js';
import type {
  ExportJobDescription,
  ExportJobRef,
  FhirExportSource,
  ObjectLocation,
  StartExportRequest,
} from './types.js';

/** Options of {@link HealthLakeExportSource}. */
export interface HealthLakeExportSourceOptions {
  /** FHIR base URL: `https://healthlake.<region>.amazonaws.com/datastore/<id>/r4` (or the embedded one). */
  fhirBaseUrl: string;
  /** A fetch that signs with SigV4 ({@link createSigV4Fetch}). */
  fetch: FetchLike;
  /** Where HealthLake writes the export: `s3://bucket/prefix`. */
  outputS3Uri: string;
  /** KMS key for the output (required by HealthLake in AWS). */
  kmsKeyId?: string;
  /** Role HealthLake assumes to write the output. */
  dataAccessRoleArn?: string;
  /** Default `_type` filter. */
  types?: readonly string[];
  /** Remembers runId -> job (idempotency). */
  registry: ExportJobRegistry;
  /** Control-plane client: finds a job named `runId` that was started but not recorded (crash between the two). */
  control?: { client: HealthLakeClient; datastoreId: string };
  /** Retries of the `$export` kick-off, as for any Bulk Data server ({@link withRetry}). */
  retry?: Partial<RetryPolicy> & RetryRuntime;
  /**
   * How jobs are started and described: FHIR REST `$export` (default; incremental with `_since`), or the control plane
   * `StartFHIRExportJob`/`DescribeFHIRExportJob` (needs `control` and `dataAccessRoleArn`; always a full export).
   */
  api?: 'fhir-rest' | 'control-plane';
  /**
   * Store of an export bucket. A completed job whose answer has no `output[]` (HealthLake's job properties only, and
   * every `DescribeFHIRExportJob`) is read by listing its folder `<S3Uri>/<datastoreId>-FHIR_EXPORT-<jobId>/`.
   */
  exportStore?: (bucket: string) => ObjectStore;
}

/**
 * {@link FhirExportSource} for AWS HealthLake (and the embedded datastore, which speaks the same REST API):
 * FHIR REST `$export?_since=&_type=` with `JobName = runId`, status by `GET …/r4/export/<jobId>`, every call SigV4-signed;
 * or, with `api: 'control-plane'`, `StartFHIRExportJob`/`DescribeFHIRExportJob`. A completed job reported by its job
 * properties only (no `transactionTime`, no `output[]`) gets `transactionTime = submitTime` and its files by listing
 * `<S3Uri>/<datastoreId>-FHIR_EXPORT-<jobId>/`.
 *
 * @example
 * const source = new HealthLakeExportSource({ fhirBaseUrl, fetch: createSigV4Fetch({ region, credentials }), outputS3Uri: 's3://exports/fhir', registry });
 * const job = await source.startExport({ runId: 'run-1', since: null });
 */
export class HealthLakeExportSource implements FhirExportSource {
  public constructor(private readonly options: HealthLakeExportSourceOptions) {
    if (options.api === 'control-plane' && !options.control)
      throw new TypeError('HealthLakeExportSource: api "control-plane" needs `control` (client and datastore id)');
  }

  public async startExport(request: StartExportRequest): Promise<ExportJobRef> {
    const known = await this.options.registry.findJob(request.runId);
    if (known) return known;
    const existing = await this.findByJobName(request.runId);
    if (existing) {
      await this.options.registry.recordJob(request.runId, existing);
      return existing;
    }
    if (this.controlPlane) {
      const control = this.controlPlane;
      const jobId = await startControlPlaneExport(control, {
        runId: request.runId,
        jobName: jobNameOf(request.runId),
        outputS3Uri: request.outputS3Uri ?? this.options.outputS3Uri,
        ...(this.options.kmsKeyId ? { kmsKeyId: this.options.kmsKeyId } : {}),
        ...(this.options.dataAccessRoleArn ? { dataAccessRoleArn: this.options.dataAccessRoleArn } : {}),
      });
      const job: ExportJobRef = { jobId, runId: request.runId };
      await this.options.registry.recordJob(request.runId, job);
      return job;
    }
    const types = request.types ?? this.options.types;
    const url = kickoffUrl(this.options.fhirBaseUrl, { since: request.since, ...(types ? { types } : {}) });
    const body = {
      JobName: jobNameOf(request.runId),
      OutputDataConfig: {
        S3Configuration: {
          S3Uri: request.outputS3Uri ?? this.options.outputS3Uri,
          ...(this.options.kmsKeyId ? { KmsKeyId: this.options.kmsKeyId } : {}),
        },
      },
      ...(this.options.dataAccessRoleArn ? { DataAccessRoleArn: this.options.dataAccessRoleArn } : {}),
    };
    return kickOffExport({
      fetch: this.options.fetch,
      url,
      init: {
        method: 'POST',
        headers: { accept: 'application/fhir+json', 'content-type': 'application/json', prefer: 'respond-async' },
        body: JSON.stringify(body),
      },
      registry: this.options.registry,
      runId: request.runId,
      ...(this.options.retry ? { retry: this.options.retry } : {}),
    });
  }

  public async describeExport(job: ExportJobRef): Promise<ExportJobDescription> {
    if (this.controlPlane) {
      return describeFromJobProperties(
        await describeControlPlaneExport(this.controlPlane, job.jobId),
        this.sparseContext(job.jobId),
      );
    }
    const statusUrl = job.statusUrl ?? this.statusUrlOf(job.jobId);
    let response: Response;
    try {
      response = await this.options.fetch(statusUrl, { method: 'GET', headers: { accept: 'application/fhir+json' } });
    } catch (error) {
      throw requestFailure('export status', 'GET', statusUrl, error);
    }
    return readStatusResponse(await this.completeSparseAnswer(response, job.jobId));
  }

  /** The control plane, when jobs go through it. */
  private get controlPlane(): { client: HealthLakeClient; datastoreId: string } | undefined {
    return this.options.api === 'control-plane' ? this.options.control : undefined;
  }

  private sparseContext(jobId: string): SparseStatusContext {
    const datastoreId =
      this.options.control?.datastoreId ?? /\/datastore\/([^/]+)\/r4\/?$/.exec(this.options.fhirBaseUrl)?.[1];
    return {
      jobId,
      outputS3Uri: this.options.outputS3Uri,
      ...(datastoreId ? { datastoreId } : {}),
      ...(this.options.exportStore ? { exportStore: this.options.exportStore } : {}),
    };
  }

  /**
   * A 200 answer without `transactionTime` or `output[]` (HealthLake's job properties only) gets them filled in, then
   * goes through the one Bulk Data status parser like any other answer.
   */
  private async completeSparseAnswer(response: Response, jobId: string): Promise<Response> {
    if (response.status !== 200) return response;
    const text = await response.text();
    // The rebuilt body is already decoded and may differ in length from the one on the wire.
    const headers = new Headers(response.headers);
    headers.delete('content-length');
    headers.delete('content-encoding');
    let body: unknown;
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      return new Response(text, { status: response.status, headers });
    }
    const completed = await completeSparseStatus(body, this.sparseContext(jobId));
    return new Response(JSON.stringify(completed), { status: response.status, headers });
  }

  public locate(url: string): ObjectLocation {
    return locateExportUrl(url);
  }

  public async cancelExport(job: ExportJobRef): Promise<void> {
    const statusUrl = job.statusUrl ?? this.statusUrlOf(job.jobId);
    const response = await this.options.fetch(statusUrl, { method: 'DELETE' });
    await response.body?.cancel().catch(() => undefined);
  }

  /** HealthLake's status URL of a job: `…/r4/export/<jobId>`. */
  private statusUrlOf(jobId: string): string {
    return `${this.options.fhirBaseUrl.replace(/\/+$/, '')}/export/${encodeURIComponent(jobId)}`;
  }

  private async findByJobName(runId: string): Promise<ExportJobRef | undefined> {
    if (!this.options.control) return undefined;
    try {
      const answer = await this.options.control.client.send(
        new ListFHIRExportJobsCommand({ DatastoreId: this.options.control.datastoreId, JobName: jobNameOf(runId) }),
      );
      const match = answer.ExportJobPropertiesList?.find((job) => job.JobName === jobNameOf(runId) && job.JobId);
      if (!match?.JobId) return undefined;
      return {
        jobId: match.JobId,
        statusUrl: this.statusUrlOf(match.JobId),
        runId,
      };
    } catch (error) {
      if (error instanceof ExportWorkflowError) throw error;
      throw new TransientExportError(`ListFHIRExportJobs failed: ${(error as Error).name}`, { cause: error });
    }
  }
}

/** HealthLake job names are at most 64 characters. */
function jobNameOf(runId: string): string {
  return runId.slice(0, 64);
}
