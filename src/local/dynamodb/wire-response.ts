import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type { BufferedResponse } from './dynalite-backend.js';
import type { AwsWireError } from './errors.js';

const JSON_CONTENT_TYPE = 'application/x-amz-json-1.0';

/**
 * A JSON response with the headers the AWS SDK checks: `x-amzn-RequestId` and a correct `x-amz-crc32`.
 *
 * @example
 * jsonResponse(200, { Streams: [] })
 */
export function jsonResponse(statusCode: number, body: unknown, requestId = newRequestId()): BufferedResponse {
  const payload = Buffer.from(JSON.stringify(body));
  return {
    statusCode,
    headers: {
      'content-type': JSON_CONTENT_TYPE,
      'x-amzn-requestid': requestId,
      'x-amz-crc32': String(crc32(payload)),
    },
    body: payload,
  };
}

/**
 * The response for an {@link AwsWireError}.
 *
 * @example
 * errorResponse(validationError('Invalid ShardIterator'))
 */
export function errorResponse(error: AwsWireError): BufferedResponse {
  return jsonResponse(error.statusCode, error.toBody());
}

/**
 * Re-serialises a (successful) backend JSON response after `edit` changed its body, keeping its request id.
 *
 * @example
 * rewriteJson(response, (body) => ({ ...body, Extra: 1 }))
 */
export function rewriteJson<T>(response: BufferedResponse, edit: (body: T) => unknown): BufferedResponse {
  const body = JSON.parse(response.body.toString('utf8')) as T;
  const requestId = response.headers['x-amzn-requestid'];
  return jsonResponse(response.statusCode, edit(body), typeof requestId === 'string' ? requestId : newRequestId());
}

/**
 * Whether a backend response is a success.
 *
 * @example
 * if (!isOk(response)) return response; // dynalite's error, unchanged
 */
export function isOk(response: { statusCode: number }): boolean {
  return response.statusCode >= 200 && response.statusCode < 300;
}

function newRequestId(): string {
  return randomBytes(39).toString('base64').toUpperCase().replace(/[+/]/g, '0');
}
