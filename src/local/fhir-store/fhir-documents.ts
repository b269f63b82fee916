import type { SearchPage } from './search.js';
import { summarise } from './summary.js';
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

/** One OperationOutcome issue; `expression` holds FHIRPath locations. */
export interface OutcomeIssue {
  severity: 'fatal' | 'error' | 'warning' | 'information';
  code: string;
  diagnostics: string;
  expression?: string[];
}

/**
 * An OperationOutcome with several issues (e.g. every validation error of a resource).
 *
 * @example
 * outcomeOf([{ severity: 'error', code: 'structure', diagnostics: 'unknown element', expression: ['Patient.foo'] }]);
 */
export function outcomeOf(issues: readonly OutcomeIssue[]): FhirResource {
  return { resourceType: 'OperationOutcome', issue: issues.map((issue) => ({ ...issue })) };
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
  if (page.hasMore) links.push({ relation: 'next', url: link(page.offset + page.count) });
  if (page.offset > 0 && page.count > 0)
    links.push({ relation: 'previous', url: link(Math.max(0, page.offset - page.count)) });
  const entry: unknown[] = page.versions.map((version) => ({
    fullUrl: `${baseUrl}/${version.type}/${version.id}`,
    resource: version.resource && summarise(version.resource, page.summary),
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
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    ...(page.total === undefined ? {} : { total: page.total }),
    link: links,
    entry,
  };
}

/** One page of a history, with what its links need. */
export interface HistoryPage {
  total: number;
  versions: StoredVersion[];
  count: number;
  offset: number;
  /** The newest `tx_seq` the paging is pinned to, so later writes do not shift pages. */
  snapshot: number;
  since?: string;
}

/**
 * A `history` Bundle, newest version first; deletions carry `request.method = DELETE`.
 * `self`, `next` and `previous` links page with `_count`/`_offset` pinned to `_snapshot`
 * (the newest write when paging began), so a client can follow `next` to the end.
 *
 * @example
 * historyBundle(base, `${base}/Patient/1/_history`, history);
 */
export function historyBundle(baseUrl: string, historyUrl: string, history: HistoryPage): FhirResource {
  const link = (offset: number): string => {
    const params = new URLSearchParams({
      _count: String(history.count),
      _offset: String(offset),
      _snapshot: String(history.snapshot),
      ...(history.since ? { _since: history.since } : {}),
    });
    return `${historyUrl}?${params.toString()}`;
  };
  const links = [{ relation: 'self', url: link(history.offset) }];
  if (history.count > 0 && history.offset + history.count < history.total)
    links.push({ relation: 'next', url: link(history.offset + history.count) });
  if (history.offset > 0 && history.count > 0)
    links.push({ relation: 'previous', url: link(Math.max(0, history.offset - history.count)) });
  return {
    resourceType: 'Bundle',
    type: 'history',
    total: history.total,
    link: links,
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
