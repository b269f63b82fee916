/**
 * The Step Functions payload quota: a state's input, output or a task's result larger than this fails the execution
 * with `States.DataLimitExceeded`, which no Retry or Catch handles. Enforcing it locally makes a workflow that would
 * break in AWS at scale break the same way in tests.
 */
import { StatesRuntimeError } from './errors.js';

/** AWS quota: 256 KiB of UTF-8 JSON per state input, output and task result. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 256 * 1024;

/**
 * Size of a JSON value as Step Functions counts it (UTF-8 bytes of its JSON text).
 *
 * @example
 * payloadBytes({ a: 'é' }); // 10
 */
export function payloadBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value ?? null), 'utf8');
}

/**
 * Throws `States.DataLimitExceeded` when `value` is over `limit` bytes.
 *
 * @example
 * assertPayloadSize(result, DEFAULT_MAX_PAYLOAD_BYTES, "result of 'ProcessFiles'");
 */
export function assertPayloadSize(value: unknown, limit: number, what: string): void {
  const bytes = payloadBytes(value);
  if (bytes > limit)
    throw new StatesRuntimeError(
      'States.DataLimitExceeded',
      `${what} is ${bytes} bytes, over the ${limit}-byte payload quota`,
    );
}
