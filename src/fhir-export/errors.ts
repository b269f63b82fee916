/**
 * Errors of the FHIR export workflow. Messages carry ids, HTTP statuses and reasons, never resource content (no PHI).
 * `errorName` is the ASL error name used with SendTaskFailure and matched by Catch.
 */

/** ASL error names the workflow reports. */
export const ExportErrorNames = {
  StartFailed: 'Export.StartFailed',
  /** An output, deleted or error file of a completed export could not be downloaded. */
  DownloadFailed: 'Export.DownloadFailed',
  JobFailed: 'Export.JobFailed',
  JobCancelled: 'Export.JobCancelled',
  CompletedWithErrors: 'Export.CompletedWithErrors',
  MaxWaitExceeded: 'Export.MaxWaitExceeded',
  StatusUnavailable: 'Export.StatusUnavailable',
  ManifestInvalid: 'Export.ManifestInvalid',
  InvalidMessage: 'Export.InvalidMessage',
} as const;

/** Base class: an export error with an ASL error name. */
export class ExportWorkflowError extends Error {
  public readonly errorName: string;
  public constructor(errorName: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = errorName;
    this.errorName = errorName;
  }
}

/**
 * The source refused or failed to start an export.
 *
 * @example
 * throw new ExportStartError('HTTP 403 from $export');
 */
export class ExportStartError extends ExportWorkflowError {
  public constructor(message: string, options?: { cause?: unknown }) {
    super(ExportErrorNames.StartFailed, message, options);
  }
}

/** Options of {@link TransientExportError}. */
export interface TransientExportErrorOptions {
  cause?: unknown;
  /** Seconds the server asked us to wait (its `Retry-After`), when it said. */
  retryAfterSeconds?: number;
  /** ASL error name if retries run out; default `Export.StatusUnavailable`. */
  errorName?: string;
}

/**
 * A failure worth retrying (HTTP 408/429/5xx, network error), with the server's `Retry-After` when it sent one.
 *
 * @example
 * throw new TransientExportError('HTTP 503 from status endpoint', { retryAfterSeconds: 30 });
 */
export class TransientExportError extends ExportWorkflowError {
  public readonly retryAfterSeconds: number | undefined;
  public constructor(message: string, options: TransientExportErrorOptions = {}) {
    super(
      options.errorName ?? ExportErrorNames.StatusUnavailable,
      message,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/**
 * A file listed by the manifest could not be downloaded (a refusal that retrying will not change). The message names
 * the URL without its query string and carries the server's OperationOutcome text.
 *
 * @example
 * throw new ExportDownloadError('download GET https://files/p.ndjson answered HTTP 403: expired');
 */
export class ExportDownloadError extends ExportWorkflowError {
  public constructor(message: string, options?: { cause?: unknown }) {
    super(ExportErrorNames.DownloadFailed, message, options);
  }
}

/**
 * The server answered something that is not a valid Bulk Data response.
 *
 * @example
 * throw new ExportProtocolError('status 200 without transactionTime');
 */
export class ExportProtocolError extends ExportWorkflowError {
  public constructor(message: string, options?: { cause?: unknown }) {
    super(ExportErrorNames.ManifestInvalid, message, options);
  }
}

/**
 * A manifest URL names no object this workflow can read.
 *
 * @example
 * locateExportUrl('ftp://x') // throws UnsupportedOutputUrlError
 */
export class UnsupportedOutputUrlError extends ExportWorkflowError {
  public constructor(public readonly url: string) {
    super(ExportErrorNames.ManifestInvalid, `unsupported export output URL: ${redactUrl(url)}`);
  }
}

/**
 * A message or Lambda input did not match its schema.
 *
 * @example
 * throw new InvalidWorkflowInputError('start-export message: runId: required');
 */
export class InvalidWorkflowInputError extends ExportWorkflowError {
  public constructor(message: string) {
    super(ExportErrorNames.InvalidMessage, message);
  }
}

/**
 * A ledger operation named a run that does not exist or was owned by someone else.
 *
 * @example
 * throw new LedgerError('Ledger.RunNotFound', 'run run-1 not found');
 */
export class LedgerError extends Error {
  public constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** Drops query strings (may hold signatures/tokens) from a URL for messages. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  return q >= 0 ? `${url.slice(0, q)}?…` : url;
}

/** The ASL error name of anything thrown. */
export function errorNameOf(error: unknown): string {
  if (error instanceof ExportWorkflowError) return error.errorName;
  if (error instanceof Error && error.name && error.name !== 'Error') return error.name;
  return 'Error';
}

/** A short cause string (message only; callers never put PHI in messages). */
export function causeOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > 1000 ? `${text.slice(0, 1000)}…` : text;
}
