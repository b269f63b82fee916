import { createHash } from 'node:crypto';
import { sanitiseSegment } from './layout.js';

/** Longest id kept verbatim in a file name; longer ids are replaced by a hash to bound key length. */
const MAX_ID_IN_NAME = 48;

function idSegment(id: string): string {
  const safe = sanitiseSegment(id);
  return safe.length <= MAX_ID_IN_NAME ? safe : createHash('sha256').update(id).digest('hex').slice(0, 16);
}

/**
 * Deterministic file name for a run of records: `<firstId>-<lastId>-<12 hex of sha256(all ids)>.ndjson.gz`.
 * The same records always get the same name, so a retried batch overwrites rather than duplicates.
 *
 * @example
 * ndjsonFileName('100', '205', 'a1b2c3d4e5f6') // '100-205-a1b2c3d4e5f6.ndjson.gz'
 */
export function ndjsonFileName(firstId: string, lastId: string, idsHash: string): string {
  return `${idSegment(firstId)}-${idSegment(lastId)}-${idsHash.slice(0, 12)}.ndjson.gz`;
}
