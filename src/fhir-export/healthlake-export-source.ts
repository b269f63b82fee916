import { ListFHIRExportJobsCommand, type HealthLakeClient } from '@aws-sdk/client-healthlake';
import { kickoffUrl, kickOffExport, readStatusResponse, type FetchLike } from './bulk-data-protocol.js';
import { ExportWorkflowError, TransientExportError } from './errors.js';
import { requestFailedMessage } from './request-failure.js';
import type { RetryPolicy, RetryRuntime } from './retry-policy.js';
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
}

/**
 * {@link FhirExportSource} for AWS HealthLake (and the embedded datastore, which speaks the same REST API):
 * FHIR REST `$export?_since=&_type=` with `JobName = runId`, status by `GET …/r4/export/<jobId>`, every call SigV4-signed.
 *
 * @example
 * const source = new HealthLakeExportSource({ fhirBaseUrl, fetch: createSigV4Fetch({ region, credentials }), outputS3Uri: 's3://exports/fhir', registry });
 * const job = await source.startExport({ runId: 'run-1', since: null });
 */
export class HealthLakeExportSource implements FhirExportSource {
  public constructor(private readonly options: HealthLakeExportSourceOptions) {}

  public async startExport(request: StartExportRequest): Promise<ExportJobRef> {
    const known = await this.options.registry.findJob(request.runId);
    if (known) return known;
    const existing = await this.findByJobName(request.runId);
    if (existing) {
      await this.options.registry.recordJob(request.runId, existing);
      return existing;
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
    const statusUrl = job.statusUrl ?? this.statusUrlOf(job.jobId);
    let response: Response;
    try {
      response = await this.options.fetch(statusUrl, { method: 'GET', headers: { accept: 'application/fhir+json' } });
    } catch (error) {
      if (error instanceof ExportWorkflowError) throw error;
      throw new TransientExportError(requestFailedMessage('export status', 'GET', statusUrl, error), { cause: error });
    }
    return readStatusResponse(response);
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
