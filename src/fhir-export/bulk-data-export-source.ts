import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { ObjectStore } from '../ports/object-store.js';
import { systemClock, type Clock } from '../ports/clock.js';
import {
  diagnosticsOf,
  kickoffUrl,
  kickOffExport,
  readStatusResponse,
  isTransientStatus,
  type FetchLike,
} from './bulk-data-protocol.js';
import { ExportDownloadError, ExportErrorNames, ExportStartError, TransientExportError, redactUrl } from './errors.js';
import type { ExportJobRegistry } from './job-registry.js';
import { locateExportUrl, toS3Uri } from './locate.js';
import { requestFailedMessage, requestFailure } from './request-failure.js';
import { parseRetryAfter, retryOptionsOf, withRetry, type RetryPolicy, type RetryRuntime } from './retry-policy.js';
import type {
  ExportJobDescription,
  ExportJobRef,
  ExportManifest,
  FhirExportSource,
  ManifestFile,
  ObjectLocation,
  StartExportRequest,
} from './types.js';

/** Options of {@link BulkDataExportSource}. */
export interface BulkDataExportSourceOptions {
  /** FHIR base URL of the server (system-level `$export`). */
  fhirBaseUrl: string;
  /** Fetch for kick-off, status, cancel, and files when the manifest says `requiresAccessToken`: plain, or wrapped by {@link SmartBackendAuth.wrap}. */
  fetch?: FetchLike;
  /**
   * Fetch for files when the manifest does not say `requiresAccessToken: true` (default: the global fetch, no token):
   * a pre-signed URL refuses a request that also carries a Bearer token.
   */
  fileFetch?: FetchLike;
  registry: ExportJobRegistry;
  /** Bucket the output files are copied into, and the store that writes it. */
  exportBucket: string;
  exportStore: ObjectStore;
  /** Key prefix inside the export bucket (default `bulk-export/`). */
  exportPrefix?: string;
  types?: readonly string[];
  /** Retries of the kick-off and of each file download ({@link withRetry}); sleep and clock injectable for tests. */
  retry?: Partial<RetryPolicy> & RetryRuntime;
}

/**
 * {@link FhirExportSource} for any FHIR Bulk Data v2 server (HAPI, the SMART reference server): `GET $export` with
 * `Prefer: respond-async`, polls the `Content-Location`, and when complete streams every output file into the export
 * bucket so the rest of the workflow reads S3-shaped locations. Copies use deterministic keys, so a repeated check overwrites.
 *
 * @example
 * const source = new BulkDataExportSource({ fhirBaseUrl: 'https://hapi.example/fhir', registry, exportBucket: 'exports', exportStore });
 */
export class BulkDataExportSource implements FhirExportSource {
  private readonly fetchFn: FetchLike;
  private readonly fileFetchFn: FetchLike;
  private readonly clock: Clock;

  public constructor(private readonly options: BulkDataExportSourceOptions) {
    this.fetchFn = options.fetch ?? ((url, init) => fetch(url, init));
    this.fileFetchFn = options.fileFetch ?? ((url, init) => fetch(url, init));
    this.clock = options.retry?.clock ?? systemClock;
  }

  public async startExport(request: StartExportRequest): Promise<ExportJobRef> {
    const known = await this.options.registry.findJob(request.runId);
    if (known) return known;
    const types = request.types ?? this.options.types;
    const url = kickoffUrl(this.options.fhirBaseUrl, { since: request.since, ...(types ? { types } : {}) });
    return kickOffExport({
      fetch: this.fetchFn,
      url,
      init: { method: 'GET', headers: { accept: 'application/fhir+json', prefer: 'respond-async' } },
      registry: this.options.registry,
      runId: request.runId,
      ...(this.options.retry ? { retry: this.options.retry } : {}),
    });
  }

  public async describeExport(job: ExportJobRef): Promise<ExportJobDescription> {
    if (!job.statusUrl) throw new ExportStartError(`job ${job.jobId} has no status URL`);
    let response: Response;
    try {
      response = await this.fetchFn(job.statusUrl, { method: 'GET', headers: { accept: 'application/json' } });
    } catch (error) {
      throw requestFailure('export status', 'GET', job.statusUrl, error);
    }
    const description = await readStatusResponse(response, this.clock.now(), { preferStoredLocation: false });
    if (!description.manifest) return description;
    return { ...description, manifest: await this.copyOutputs(job, description.manifest) };
  }

  public locate(url: string): ObjectLocation {
    return locateExportUrl(url);
  }

  /** `DELETE` on the status URL (Bulk Data: cancels the job, or lets the server drop a finished job's files). */
  public async cancelExport(job: ExportJobRef): Promise<void> {
    if (!job.statusUrl) return;
    let response: Response;
    try {
      response = await this.fetchFn(job.statusUrl, { method: 'DELETE' });
    } catch (error) {
      throw requestFailure('export cancel', 'DELETE', job.statusUrl, error);
    }
    await response.body?.cancel().catch(() => undefined);
  }

  /** Streams each file into the export bucket; returns the manifest with `s3://` URLs. */
  private async copyOutputs(job: ExportJobRef, manifest: ExportManifest): Promise<ExportManifest> {
    const prefix = this.options.exportPrefix ?? 'bulk-export/';
    const folder = `${prefix}${safe(job.runId ?? 'run')}/${safe(job.jobId)}`;
    const copy = async (files: ManifestFile[], kind: string): Promise<ManifestFile[]> => {
      const out: ManifestFile[] = [];
      for (const [index, file] of files.entries()) {
        const key = `${folder}/${kind}/${safe(file.type)}/${safe(file.type)}-${index + 1}-${hash(file.url)}.ndjson`;
        await this.download(file.url, key, manifest.requiresAccessToken === true);
        out.push({ ...file, url: toS3Uri({ bucket: this.options.exportBucket, key }) });
      }
      return out;
    };
    return {
      transactionTime: manifest.transactionTime,
      ...(manifest.requiresAccessToken ? { requiresAccessToken: true } : {}),
      output: await copy(manifest.output, 'output'),
      deleted: await copy(manifest.deleted, 'deleted'),
      error: await copy(manifest.error, 'error'),
    };
  }

  /**
   * Streams one file into the export bucket. The request is retried like the kick-off; a refusal that retrying will
   * not change is {@link ExportDownloadError} with the server's OperationOutcome text.
   */
  private async download(url: string, key: string, withToken: boolean): Promise<void> {
    const fetchFile = withToken ? this.fetchFn : this.fileFetchFn;
    const body = await withRetry(async () => {
      let response: Response;
      try {
        response = await fetchFile(url, { method: 'GET', headers: { accept: 'application/fhir+ndjson' } });
      } catch (error) {
        throw requestFailure('download', 'GET', url, error, ExportErrorNames.DownloadFailed);
      }
      if (response.ok && response.body) return response.body;
      const retryAfterSeconds = parseRetryAfter(response.headers.get('retry-after'), this.clock.now());
      const reason = await diagnosticsOf(response);
      const message = `download GET ${redactUrl(url)} answered HTTP ${response.status}${reason ? `: ${reason}` : ''}`;
      if (isTransientStatus(response.status)) {
        throw new TransientExportError(message, {
          errorName: ExportErrorNames.DownloadFailed,
          ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
        });
      }
      throw new ExportDownloadError(message);
    }, retryOptionsOf(this.options.retry));
    try {
      await this.options.exportStore.put(key, Readable.fromWeb(body as unknown as WebReadableStream<Uint8Array>), {
        contentType: 'application/fhir+ndjson',
      });
    } catch (error) {
      // Most often the connection dropped mid-file; the next check downloads it again (keys are deterministic).
      throw new TransientExportError(requestFailedMessage('download', 'GET', url, error), {
        cause: error,
        errorName: ExportErrorNames.DownloadFailed,
      });
    }
  }
}

function safe(value: string): string {
  return value.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+/, '_') || '_';
}

function hash(value: string): string {
  return createHash('sha256').update(value).digest('hex').slice(0, 8);
}
