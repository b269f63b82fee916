import { createHash } from 'node:crypto';

/**
 * A name-based UUID (RFC 4122 version 5 layout, SHA-1) for `key` within `namespace`.
 * Deterministic, so a re-generated bundle carries the same `urn:uuid:` fullUrls.
 *
 * @example
 * deterministicUuid('seed-42', 'Observation/obs-p-000001-3');
 */
export function deterministicUuid(namespace: string, key: string): string {
  const bytes = createHash('sha1').update(namespace).update('\u0000').update(key).digest();
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
