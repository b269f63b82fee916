import type { FhirResource, StoredVersion } from './types.js';

/** A row of the `resources` table. */
export interface VersionRow {
  tx_seq: number;
  type: string;
  id: string;
  version_id: number;
  last_updated: string;
  deleted: number;
  json: string | null;
}

/**
 * Converts a `resources` row to a {@link StoredVersion}.
 *
 * @example
 * const version = toStoredVersion(db.prepare('SELECT * FROM resources WHERE tx_seq = ?').get(1));
 */
export function toStoredVersion(row: VersionRow): StoredVersion {
  return {
    type: row.type,
    id: row.id,
    versionId: row.version_id,
    lastUpdated: row.last_updated,
    txSeq: row.tx_seq,
    deleted: row.deleted === 1,
    ...(row.json ? { resource: JSON.parse(row.json) as FhirResource } : {}),
  };
}
