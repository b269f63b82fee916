import type { SearchPage } from './search.js';
import type { FhirResource, StoredVersion } from './types.js';

/**
 * An OperationOutcome with one issue.
 *
 * @example
 * operationOutcome('error', 'not-found', 'Patient/1 does not exist');
 */
export function operationOutcome(
  severity: 'fatal' | 'error' | 'warning' | 'information',
  code: string,
  diagnostics: string,
): FhirResource {
  return { resourceType: 'OperationOutcome', issue: [{ severity, code, diagnostics }] };
}

/** The weak ETag of a version: `W/"3"`. *
 * @example
 * etagOf(3) // 'W/"3"'
 */
export function etagOf(versionId: number): string {
  return `W/"${versionId}"`;
}

/** The relative versioned location `Type/id/_history/vid`. *
 * @example
 * versionedPath({ type: 'Patient', id: '1', versionId: 2 }) // 'Patient/1/_history/2'
 */
export function versionedPath(version: Pick<StoredVersion, 'type' | 'id' | 'versionId'>): string {
  return `${version.type}/${version.id}/_history/${version.versionId}`;
}

/**
 * A `searchset` Bundle for a page of results, with `self`, `next` and `previous` links
 * built by replacing `_offset` in the query.
 *
 * @example
 * searchsetBundle(base, 'Patient', query, page);
 */
export function searchsetBundle(baseUrl: string, type: string, query: URLSearchParams, page: SearchPage): FhirResource {
  const link = (offset: number): string => {
    const params = new URLSearchParams(query);
    params.set('_count', String(page.count));
    params.set('_offset', String(offset));
    return `${baseUrl}/${type}?${params.toString()}`;
  };
  const links = [{ relation: 'self', url: link(page.offset) }];
  if (page.count > 0 && page.offset + page.count < page.total)
    links.push({ relation: 'next', url: link(page.offset + page.count) });
  if (page.offset > 0 && page.count > 0)
    links.push({ relation: 'previous', url: link(Math.max(0, page.offset - page.count)) });
  const entry: unknown[] = page.versions.map((version) => ({
    fullUrl: `${baseUrl}/${version.type}/${version.id}`,
    resource: version.resource,
    search: { mode: 'match' },
  }));
  if (page.ignored.length > 0) {
    entry.push({
      resource: operationOutcome(
        'warning',
        'not-supported',
        `ignored unsupported search parameters: ${page.ignored.join(', ')}`,
      ),
      search: { mode: 'outcome' },
    });
  }
  return { resourceType: 'Bundle', type: 'searchset', total: page.total, link: links, entry };
}

/**
 * A `history` Bundle, newest version first; deletions carry `request.method = DELETE`.
 *
 * @example
 * historyBundle(base, `${base}/Patient/1/_history`, history);
 */
export function historyBundle(
  baseUrl: string,
  selfUrl: string,
  history: { total: number; versions: StoredVersion[] },
): FhirResource {
  return {
    resourceType: 'Bundle',
    type: 'history',
    total: history.total,
    link: [{ relation: 'self', url: selfUrl }],
    entry: history.versions.map((version) => ({
      fullUrl: `${baseUrl}/${version.type}/${version.id}`,
      ...(version.resource ? { resource: version.resource } : {}),
      request: {
        method: version.deleted ? 'DELETE' : version.versionId === 1 ? 'POST' : 'PUT',
        url: version.versionId === 1 && !version.deleted ? version.type : `${version.type}/${version.id}`,
      },
      response: {
        status: version.deleted ? '204' : version.versionId === 1 ? '201' : '200',
        etag: etagOf(version.versionId),
        lastModified: version.lastUpdated,
      },
    })),
  };
}
