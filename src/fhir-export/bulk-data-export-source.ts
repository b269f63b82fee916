import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { ObjectStore } from '../ports/object-store.js';
import {
  kickoffUrl,
  kickOffExport,
  readStatusResponse,
  isTransientStatus,
  type FetchLike,
} from './bulk-data-protocol.js';
import { ExportStartError, TransientExportError, redactUrl } from './errors.js';
import type { ExportJobRegistry } from './job-registry.js';
import { locateExportUrl, toS3Uri } from './locate.js';
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
  /** Fetch to use: plain, or wrapped by {@link SmartBackendAuth.wrap}. */
  fetch?: FetchLike;
  /** Fetch for output files when the manifest says `requiresAccessToken` (default: same as `fetch`). */
  registry: ExportJobRegistry;
  /** Bucket the output files are copied into, and the store that writes it. */
  exportBucket: string;
  exportStore: ObjectStore;
  /** Key prefix inside the export bucket (default `bulk-export/`). */
  exportPrefix?: string;
  types?: readonly string[];
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

  public constructor(private readonly options: BulkDataExportSourceOptions) {
    this.fetchFn = options.fetch ?? ((url, init) => fetch(url, init));
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
    });
  }

  public async describeExport(job: ExportJobRef): Promise<ExportJobDescription> {
    if (!job.statusUrl) throw new ExportStartError(`job ${job.jobId} has no status URL`);
    let response: Response;
    try {
      response = await this.fetchFn(job.statusUrl, { method: 'GET', headers: { accept: 'application/json' } });
    } catch (error) {
      throw new TransientExportError(`export status request failed: ${(error as Error).message}`, { cause: error });
    }
    const description = await readStatusResponse(response, new Date(), { preferStoredLocation: false });
    if (!description.manifest) return description;
    return { ...description, manifest: await this.copyOutputs(job, description.manifest) };
  }

  public locate(url: string): ObjectLocation {
    return locateExportUrl(url);
  }

  public async cancelExport(job: ExportJobRef): Promise<void> {
    if (!job.statusUrl) return;
    const response = await this.fetchFn(job.statusUrl, { method: 'DELETE' });
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
        await this.download(file.url, key);
        out.push({ ...file, url: toS3Uri({ bucket: this.options.exportBucket, key }) });
      }
      return out;
    };
    return {
      transactionTime: manifest.transactionTime,
      output: await copy(manifest.output, 'output'),
      deleted: await copy(manifest.deleted, 'deleted'),
      error: await copy(manifest.error, 'error'),
    };
  }

  private async download(url: string, key: string): Promise<void> {
    let response: Response;
    try {
      response = await this.fetchFn(url, { method: 'GET', headers: { accept: 'application/fhir+ndjson' } });
    } catch (error) {
      throw new TransientExportError(`download of ${redactUrl(url)} failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (!response.ok || !response.body) {
      await response.body?.cancel().catch(() => undefined);
      const message = `download of ${redactUrl(url)} answered HTTP ${response.status}`;
      if (isTransientStatus(response.status)) throw new TransientExportError(message);
      throw new ExportStartError(message);
    }
    await this.options.exportStore.put(
      key,
      Readable.fromWeb(response.body as unknown as WebReadableStream<Uint8Array>),
      {
        contentType: 'application/fhir+ndjson',
      },
    );
  }
}

function safe(value: string): string {
  return value.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+/, '_') || '_';
}

function hash(value: string): string {
  return createHash('sha256').update(value).digest('hex').slice(0, 8);
}
