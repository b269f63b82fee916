import { promisify } from 'node:util';
import { gzip, gzipSync } from 'node:zlib';

const gzipAsync = promisify(gzip);

/** Offset of the OS byte in a gzip header (RFC 1952). */
export const GZIP_OS_BYTE = 9;
/** RFC 1952 "unknown" OS: the same bytes whatever platform compressed them. */
export const GZIP_OS_UNKNOWN = 255;
const OS_BYTE = GZIP_OS_BYTE;
const OS_UNKNOWN = GZIP_OS_UNKNOWN;

/**
 * Gzips bytes deterministically: Node writes MTIME 0 and no file name; the OS byte is also fixed,
 * so the same input and level always give identical output (a retried flush writes identical files).
 * Runs on the libuv thread pool so several partitions compress in parallel.
 *
 * @example
 * const a = await gzipDeterministic(Buffer.from('x\n')); // equal to any later call's output
 */
export async function gzipDeterministic(data: Uint8Array | string, level = 6): Promise<Buffer> {
  const out = await gzipAsync(data, { level });
  out[OS_BYTE] = OS_UNKNOWN;
  return out;
}

/**
 * Synchronous form of {@link gzipDeterministic}, for small payloads and tests.
 *
 * @example
 * gunzipSync(gzipDeterministicSync('x\n')).toString() // 'x\n'
 */
export function gzipDeterministicSync(data: Uint8Array | string, level = 6): Buffer {
  const out = gzipSync(data, { level });
  out[OS_BYTE] = OS_UNKNOWN;
  return out;
}
