import { ExportProtocolError, ExportStartError, TransientExportError, redactUrl } from './errors.js';
import type { ExportJobRegistry } from './job-registry.js';
import { requestFailure } from './request-failure.js';
import { parseRetryAfter, retryOptionsOf, withRetry, type RetryPolicy, type RetryRuntime } from './retry-policy.js';
import { isExportJobStatus } from './types.js';
import type { ExportJobDescription, ExportJobRef, ExportJobStatus, ExportManifest, ManifestFile } from './types.js';

/** A fetch-compatible function (global `fetch`, or a signing/authenticating wrapper around it). */
export type FetchLike = (url: string, init?: RequestInit) => Promise<Response>;

/**
 * Builds a `$export` kick-off URL with `_since` and `_type`.
 *
 * @example
 * kickoffUrl('http://h/r4', { since: '2024-01-01T00:00:00Z', types: ['Patient'] })
 * // 'http://h/r4/$export?_since=2024-01-01T00%3A00%3A00Z&_type=Patient'
 */
export function kickoffUrl(fhirBaseUrl: string, options: { since: string | null; types?: readonly string[] }): string {
  const params = new URLSearchParams();
  if (options.since) params.set('_since', options.since);
  if (options.types && options.types.length > 0) params.set('_type', options.types.join(','));
  const query = params.toString();
  return `${fhirBaseUrl.replace(/\/+$/, '')}/$export${query ? `?${query}` : ''}`;
}

/**
 * Reads a kick-off answer: HTTP 202 with `Content-Location`. Anything else throws with the server's OperationOutcome
 * text (408/429/5xx as transient, with its `Retry-After`). `request` names the call in messages.
 *
 * @example
 * const { statusUrl, jobId } = await readKickoffResponse(response, { method: 'GET', url });
 */
export async function readKickoffResponse(
  response: Response,
  request?: { method: string; url: string },
  now: Date = new Date(),
): Promise<{ statusUrl: string; jobId: string }> {
  if (response.status !== 202) {
    const reason = await diagnosticsOf(response);
    const what = request ? `export kick-off ${request.method} ${redactUrl(request.url)}` : '$export kick-off';
    const message = `${what} answered HTTP ${response.status}${reason ? `: ${reason}` : ''}`;
    if (isTransientStatus(response.status)) {
      const retryAfterSeconds = parseRetryAfter(response.headers.get('retry-after'), now);
      throw new TransientExportError(message, retryAfterSeconds === undefined ? {} : { retryAfterSeconds });
    }
    throw new ExportProtocolError(message);
  }
  await response.body?.cancel().catch(() => undefined);
  const location = response.headers.get('content-location');
  if (!location) throw new ExportProtocolError('$export kick-off answered 202 without Content-Location');
  return { statusUrl: location, jobId: jobIdFromStatusUrl(location) };
}

/** What {@link kickOffExport} sends and where it records the job. */
export interface KickoffRequest {
  fetch: FetchLike;
  /** The `$export` URL ({@link kickoffUrl}). */
  url: string;
  init: RequestInit;
  registry: ExportJobRegistry;
  runId: string;
  /** Retry policy of the kick-off (default {@link DEFAULT_RETRY_POLICY}), and injectable sleep/clock for tests. */
  retry?: Partial<RetryPolicy> & RetryRuntime;
}

/**
 * Sends a `$export` kick-off and records the started job under `runId`. A network error or a 408/429/5xx answer is
 * retried with backoff, honouring `Retry-After` ({@link withRetry}); when retries run out it throws
 * {@link TransientExportError}. Any other refusal throws {@link ExportStartError} with the server's reason. Messages
 * name the method, the URL and the cause (`ECONNREFUSED`, DNS, TLS).
 *
 * @example
 * const job = await kickOffExport({ fetch, url: kickoffUrl(base, { since: null }), init: { method: 'GET' }, registry, runId: 'run-1' });
 */
export async function kickOffExport(request: KickoffRequest): Promise<ExportJobRef> {
  const method = request.init.method ?? 'GET';
  const started = await withRetry(async () => {
    let response: Response;
    try {
      response = await request.fetch(request.url, request.init);
    } catch (error) {
      // A token endpoint refusal (SmartAuthError) or its own transient failure arrives through the fetch wrapper.
      throw requestFailure('export kick-off', method, request.url, error);
    }
    try {
      return await readKickoffResponse(
        response,
        { method, url: request.url },
        request.retry?.clock?.now() ?? new Date(),
      );
    } catch (error) {
      if (error instanceof TransientExportError) throw error;
      throw new ExportStartError((error as Error).message, { cause: error });
    }
  }, retryOptionsOf(request.retry));
  const job: ExportJobRef = { jobId: started.jobId, statusUrl: started.statusUrl, runId: request.runId };
  await request.registry.recordJob(request.runId, job);
  return job;
}

/**
 * The job id of a status URL: the last path segment (HealthLake `…/r4/export/<jobId>`, HAPI `…/$export-poll-status?_jobId=<id>`).
 *
 * @example
 * jobIdFromStatusUrl('https://h/datastore/d/r4/export/abc') // 'abc'
 */
export function jobIdFromStatusUrl(statusUrl: string): string {
  const url = new URL(statusUrl);
  const fromQuery = url.searchParams.get('_jobId') ?? url.searchParams.get('jobId') ?? url.searchParams.get('job');
  if (fromQuery) return fromQuery;
  const segments = url.pathname.split('/').filter(Boolean);
  const last = segments[segments.length - 1];
  if (!last) throw new ExportProtocolError(`cannot find a job id in status URL ${redactUrl(statusUrl)}`);
  return decodeURIComponent(last);
}

/**
 * Reads a status answer: 202 = running (X-Progress, Retry-After); 200 = manifest (status from HealthLake's
 * `exportJobProperties.jobStatus`, else COMPLETED, or COMPLETED_WITH_ERRORS when `error[]` is non-empty);
 * 4xx = FAILED with the server's diagnostics; 429/5xx throw {@link TransientExportError}.
 *
 * @example
 * const description = await readStatusResponse(await fetch(statusUrl));
 */
export async function readStatusResponse(
  response: Response,
  now: Date = new Date(),
  options: ManifestOptions = {},
): Promise<ExportJobDescription> {
  const retryAfterSeconds = parseRetryAfter(response.headers.get('retry-after'), now);
  if (response.status === 202) {
    const progress = response.headers.get('x-progress') ?? undefined;
    const body = await safeJson(response);
    const bodyStatus = statusOf(body);
    return {
      status: bodyStatus && !isTerminal(bodyStatus) ? bodyStatus : 'IN_PROGRESS',
      ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
      ...(progress ? { progress } : {}),
    };
  }
  if (response.status === 200) {
    const body = await safeJson(response);
    if (!body || typeof body !== 'object')
      throw new ExportProtocolError('status 200 with a body that is not a JSON object');
    const declared = statusOf(body);
    const message = messageOf(body);
    if (declared && declared !== 'COMPLETED' && declared !== 'COMPLETED_WITH_ERRORS') {
      return {
        status: declared,
        ...(message ? { message } : {}),
        ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
      };
    }
    const manifest = parseManifest(body, options);
    const status: ExportJobStatus = declared ?? (manifest.error.length > 0 ? 'COMPLETED_WITH_ERRORS' : 'COMPLETED');
    return { status, manifest, ...(message ? { message } : {}) };
  }
  // Bulk Data error status: 4xx/5xx with an OperationOutcome. The job failed unless an issue says `transient`
  // (or there is no OperationOutcome and the status is 408/429/5xx).
  const body = (await safeJson(response)) as OperationOutcomeLike | undefined;
  const reason = operationOutcomeText(body);
  const message = `export status answered HTTP ${response.status}${reason ? `: ${reason}` : ''}`;
  const declared = statusOf(body);
  if (declared && isTerminal(declared)) return { status: declared, message };
  const isOutcome = body?.resourceType === 'OperationOutcome';
  const transient = isOutcome
    ? (body.issue ?? []).some((issue) => issue.code === 'transient' || issue.code === 'throttled')
    : isTransientStatus(response.status);
  if (transient) throw new TransientExportError(message, retryAfterSeconds === undefined ? {} : { retryAfterSeconds });
  return { status: 'FAILED', message };
}

interface OperationOutcomeLike {
  resourceType?: string;
  issue?: Array<{ code?: string; diagnostics?: string; details?: { text?: string } }>;
  message?: string;
  Message?: string;
  exportJobProperties?: unknown;
}

/** How manifest file locations are read. */
export interface ManifestOptions {
  /**
   * Use the embedded datastore's `extension.tributary.s3Uri` (where the file already is in the export bucket)
   * rather than `url`. Default true; a generic Bulk Data source passes false and downloads `url`.
   */
  preferStoredLocation?: boolean;
}

/**
 * Validates a Bulk Data manifest (`transactionTime`, `output`, optional `deleted` and `error`).
 *
 * @example
 * parseManifest({ transactionTime: '2024-01-01T00:00:00Z', output: [] })
 */
export function parseManifest(body: unknown, options: ManifestOptions = {}): ExportManifest {
  const record = body as Record<string, unknown>;
  const transactionTime = record.transactionTime;
  if (typeof transactionTime !== 'string' || Number.isNaN(Date.parse(transactionTime))) {
    throw new ExportProtocolError('manifest has no valid transactionTime');
  }
  return {
    transactionTime,
    // Bulk Data: the Bearer token goes to file URLs only when this is true (pre-signed URLs reject it).
    ...(record.requiresAccessToken === true ? { requiresAccessToken: true } : {}),
    output: parseFiles(record.output, 'output', options),
    deleted: parseFiles(record.deleted, 'deleted', options),
    error: parseFiles(record.error, 'error', options),
  };
}

function parseFiles(value: unknown, field: string, options: ManifestOptions): ManifestFile[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new ExportProtocolError(`manifest ${field} is not an array`);
  return value.map((entry, index) => {
    const file = entry as Record<string, unknown> & { extension?: { tributary?: { s3Uri?: unknown } } };
    if (!file || typeof file.url !== 'string') throw new ExportProtocolError(`manifest ${field}[${index}] has no url`);
    // The embedded datastore serves files over HTTP and also states where they are in the local S3: read them there,
    // exactly as HealthLake's s3:// output is read in AWS.
    // A generic Bulk Data client downloads `url` over HTTP instead.
    const s3Uri = file.extension?.tributary?.s3Uri;
    const url = typeof s3Uri === 'string' && options.preferStoredLocation !== false ? s3Uri : file.url;
    const type = typeof file.type === 'string' ? file.type : field === 'error' ? 'OperationOutcome' : '';
    if (!type) throw new ExportProtocolError(`manifest ${field}[${index}] has no type`);
    return { type, url, ...(typeof file.count === 'number' ? { count: file.count } : {}) };
  });
}

function statusOf(body: unknown): ExportJobStatus | undefined {
  const props = (body as { exportJobProperties?: { jobStatus?: unknown } } | undefined)?.exportJobProperties;
  const status = props?.jobStatus;
  return isExportJobStatus(status) ? status : undefined;
}

function messageOf(body: unknown): string | undefined {
  const props = (body as { exportJobProperties?: { message?: unknown } } | undefined)?.exportJobProperties;
  return typeof props?.message === 'string' ? props.message : undefined;
}

function isTerminal(status: ExportJobStatus): boolean {
  return !['SUBMITTED', 'QUEUED', 'IN_PROGRESS'].includes(status);
}

/** 408, 429 and 5xx are worth retrying. */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

export { parseRetryAfter };

async function safeJson(response: Response): Promise<unknown> {
  const text = await response.text().catch(() => '');
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * The server's reason in an error answer's body: OperationOutcome diagnostics (server text, not resource content), or a
 * JSON `message`, capped at 300 characters. Consumes the body.
 *
 * @example
 * await diagnosticsOf(new Response('{"resourceType":"OperationOutcome","issue":[{"diagnostics":"expired"}]}')) // 'expired'
 */
export async function diagnosticsOf(response: Response): Promise<string | undefined> {
  return operationOutcomeText((await safeJson(response)) as OperationOutcomeLike | undefined);
}

/**
 * {@link diagnosticsOf} for a parsed body.
 *
 * @example
 * operationOutcomeText({ resourceType: 'OperationOutcome', issue: [{ details: { text: 'no such job' } }] }) // 'no such job'
 */
export function operationOutcomeText(body: unknown): string | undefined {
  return diagnosticsFrom(body as OperationOutcomeLike | undefined);
}

function diagnosticsFrom(body: OperationOutcomeLike | undefined): string | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const text =
    (Array.isArray(body.issue) ? body.issue : [])
      .map((i) => i?.diagnostics ?? i?.details?.text)
      .filter(Boolean)
      .join('; ') ||
    body?.message ||
    body?.Message;
  return text ? String(text).slice(0, 300) : undefined;
}
