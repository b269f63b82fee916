import { ExportWorkflowError, TransientExportError, redactUrl } from './errors.js';

/** What common system and undici error codes mean, in words a user can act on. */
const CODE_MEANINGS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by the server',
  EPIPE: 'connection closed by the server',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'DNS: host not found',
  EAI_AGAIN: 'DNS: temporary lookup failure',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_HEADERS_TIMEOUT: 'no response headers in time',
  UND_ERR_BODY_TIMEOUT: 'response body stalled',
  UND_ERR_SOCKET: 'connection closed by the server',
  CERT_HAS_EXPIRED: 'TLS: the server certificate has expired',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'TLS: self-signed server certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'TLS: self-signed certificate in the chain',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'TLS: cannot verify the server certificate',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'TLS: unknown certificate issuer',
  ERR_TLS_CERT_ALTNAME_INVALID: 'TLS: certificate does not name this host',
};

/**
 * The cause of a failed `fetch`, as `CODE (meaning)`: undici throws `TypeError('fetch failed')` and keeps the system
 * error (`ECONNREFUSED`, `ENOTFOUND`, a TLS code) in `cause`, sometimes nested or inside an AggregateError.
 *
 * @example
 * fetchFailureReason(await fetch('http://127.0.0.1:1').catch((e) => e)) // 'ECONNREFUSED (connection refused)'
 */
export function fetchFailureReason(error: unknown): string {
  const code = findCode(error, 0);
  if (code) return CODE_MEANINGS[code] ? `${code} (${CODE_MEANINGS[code]})` : code;
  const deepest = deepestMessage(error, 0);
  return deepest || 'unknown network error';
}

/**
 * A message naming the request and why it failed, e.g.
 * `export kick-off POST http://127.0.0.1:1234/$export failed: ECONNREFUSED (connection refused)`. The query string is
 * dropped (it may hold a signature).
 *
 * @example
 * throw new TransientExportError(requestFailedMessage('export kick-off', 'POST', url, error), { cause: error });
 */
export function requestFailedMessage(what: string, method: string, url: string, error: unknown): string {
  return `${what} ${method} ${redactUrl(url)} failed: ${fetchFailureReason(error)}`;
}

/**
 * What to throw when a `fetch` of `what` rejects: an {@link ExportWorkflowError} passes through unchanged (a SMART
 * token refusal arriving through the fetch wrapper), anything else becomes a {@link TransientExportError} with
 * {@link requestFailedMessage} (named `errorName` when given).
 *
 * @example
 * try { response = await fetch(url); } catch (error) { throw requestFailure('export status', 'GET', url, error); }
 */
export function requestFailure(
  what: string,
  method: string,
  url: string,
  error: unknown,
  errorName?: string,
): ExportWorkflowError {
  if (error instanceof ExportWorkflowError) return error;
  return new TransientExportError(requestFailedMessage(what, method, url, error), {
    cause: error,
    ...(errorName ? { errorName } : {}),
  });
}

function findCode(error: unknown, depth: number): string | undefined {
  if (!error || typeof error !== 'object' || depth > 5) return undefined;
  const { code, cause, errors } = error as { code?: unknown; cause?: unknown; errors?: unknown };
  // Prefer the innermost code: undici wraps the socket error (ECONNREFUSED) in its own.
  const inner = findCode(cause, depth + 1) ?? (Array.isArray(errors) ? findCode(errors[0], depth + 1) : undefined);
  if (inner) return inner;
  return typeof code === 'string' && code ? code : undefined;
}

function deepestMessage(error: unknown, depth: number): string {
  if (!(error instanceof Error) || depth > 5) return '';
  return deepestMessage(error.cause, depth + 1) || error.message;
}
