/**
 * Local stand-in for Step Functions' AWS SDK service integrations (`arn:aws:states:::aws-sdk:<service>:<action>`):
 * a resource handler around a real SDK call, shaped as AWS shapes the integration.
 *
 * - Parameters are the API's request fields (PascalCase). Fields named in `timestampFields` are given as ISO-8601
 *   strings (or epoch seconds) in the ASL and become `Date`s for the SDK.
 * - The result is the API's response without `$metadata`; timestamps come back as ISO-8601 strings.
 * - A service error becomes the ASL error `<Prefix>.<ExceptionName>` (e.g. `DynamoDb.ExportConflictException`), with
 *   the service's message as the cause, so Retry/Catch match the names AWS documents for the integration.
 */
import type { ResourceHandler } from './types.js';

/** The error-name prefix of a service in AWS SDK integrations (the SDK's service id, as Step Functions writes it). */
export const AWS_SDK_ERROR_PREFIXES = {
  dynamodb: 'DynamoDb',
  s3: 'S3',
  sqs: 'Sqs',
  sfn: 'Sfn',
  eventbridge: 'EventBridge',
} as const;

/** The resource key of an SDK integration. */
export function awsSdkResource(service: string, action: string): string {
  return `arn:aws:states:::aws-sdk:${service}:${action}`;
}

function toDate(value: unknown, field: string): Date {
  if (typeof value === 'number') return new Date(value * 1000);
  if (typeof value === 'string' && !Number.isNaN(Date.parse(value))) return new Date(value);
  throw Object.assign(new Error(`${field} must be an ISO-8601 timestamp or epoch seconds`), {
    name: 'States.Runtime',
  });
}

function convertTimestamps(value: unknown, fields: ReadonlySet<string>): unknown {
  if (Array.isArray(value)) return value.map((v) => convertTimestamps(v, fields));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = fields.has(k) && v !== null && v !== undefined ? toDate(v, k) : convertTimestamps(v, fields);
  }
  return out;
}

function withoutMetadata(result: unknown): unknown {
  if (result === null || typeof result !== 'object') return result;
  const { $metadata: _metadata, ...rest } = result as Record<string, unknown>;
  return JSON.parse(JSON.stringify(rest)) as unknown;
}

/**
 * A resource handler for `arn:aws:states:::aws-sdk:<service>:<action>` that runs `call` with the task's parameters.
 *
 * @example
 * const resources = {
 *   [awsSdkResource('dynamodb', 'describeExport')]: awsSdkTask('DynamoDb', (input) => ddb.send(new DescribeExportCommand(input))),
 * };
 */
export function awsSdkTask<I = Record<string, unknown>>(
  errorPrefix: string,
  call: (input: I) => Promise<unknown>,
  options: { timestampFields?: readonly string[] } = {},
): ResourceHandler {
  const fields = new Set(options.timestampFields ?? []);
  return async (parameters) => {
    const input = convertTimestamps(parameters ?? {}, fields) as I;
    try {
      return withoutMetadata(await call(input));
    } catch (error) {
      const e = error as { name?: unknown; message?: unknown; $metadata?: unknown };
      if (e && typeof e.name === 'string' && e.$metadata !== undefined) {
        throw Object.assign(new Error(typeof e.message === 'string' ? e.message : ''), {
          name: `${errorPrefix}.${e.name}`,
        });
      }
      throw error;
    }
  };
}
