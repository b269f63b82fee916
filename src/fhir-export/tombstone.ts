/**
 * A deletion as it lands in the lake, one line in `fhir/<Type>/year=/month=/day=/…ndjson.gz` beside the resources:
 *
 * ```json
 * {"resourceType":"Patient","id":"p1","meta":{"lastUpdated":"2024-03-01T10:00:00.000Z"},"_tombstone":true,"_deletedAt":"2024-03-01T10:00:00.000Z"}
 * ```
 *
 * The latest line per `(resourceType, id)` by `meta.lastUpdated` (tombstone wins a tie) is the current state; a
 * current tombstone means "deleted". `_deletedAt` is the Bundle entry's `response.lastModified`, else the export's
 * transactionTime. Partitioned by `_deletedAt`.
 */
export interface Tombstone {
  resourceType: string;
  id: string;
  meta: { lastUpdated: string };
  _tombstone: true;
  _deletedAt: string;
}

/**
 * Builds a tombstone line.
 *
 * @example
 * tombstone('Patient', 'p1', '2024-03-01T10:00:00.000Z')
 */
export function tombstone(resourceType: string, id: string, deletedAt: string): Tombstone {
  return { resourceType, id, meta: { lastUpdated: deletedAt }, _tombstone: true, _deletedAt: deletedAt };
}

/**
 * Parses a Bundle entry `request.url` of a deletion: `Patient/1`, `Patient/1/_history/2`, or an absolute URL.
 *
 * @example
 * parseDeleteUrl('https://h/r4/Patient/1/_history/3') // { resourceType: 'Patient', id: '1' }
 */
export function parseDeleteUrl(url: string): { resourceType: string; id: string } | undefined {
  const path = url.split(/[?#]/)[0] ?? '';
  const segments = path.split('/').filter(Boolean);
  const history = segments.lastIndexOf('_history');
  const parts = history >= 2 ? segments.slice(0, history) : segments;
  const id = parts[parts.length - 1];
  const resourceType = parts[parts.length - 2];
  if (!id || !resourceType || !/^[A-Z][A-Za-z]+$/.test(resourceType) || !/^[A-Za-z0-9\-.]{1,64}$/.test(id))
    return undefined;
  return { resourceType, id };
}
