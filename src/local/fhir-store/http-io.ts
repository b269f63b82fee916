import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidRequestError, PayloadTooLargeError } from './errors.js';

/** Content type of FHIR JSON responses. */
export const FHIR_JSON = 'application/fhir+json; charset=utf-8';

/**
 * Reads a request body, refusing more than `limitBytes` (413) without buffering the excess.
 *
 * @example
 * const body = await readBody(req, 16 * 1024 * 1024);
 */
export async function readBody(request: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limitBytes) {
    request.resume();
    throw new PayloadTooLargeError(limitBytes);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limitBytes) {
      request.resume();
      throw new PayloadTooLargeError(limitBytes);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * Parses a JSON body; `undefined` for an empty body, 400 for invalid JSON.
 *
 * @example
 * const resource = parseJsonBody(await readBody(req, limit));
 */
export function parseJsonBody(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    throw new InvalidRequestError('the request body is not valid JSON', 'structure');
  }
}

/**
 * Sends a JSON response.
 *
 * @example
 * sendJson(res, 200, bundle, { ETag: 'W/"1"' });
 */
export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
  contentType = FHIR_JSON,
): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  response.writeHead(status, {
    ...(text
      ? { 'Content-Type': contentType, 'Content-Length': String(Buffer.byteLength(text)) }
      : { 'Content-Length': '0' }),
    ...headers,
  });
  response.end(text);
}
