import { InvalidRequestError, MethodNotAllowedError, NotSupportedError } from './errors.js';
import { historyBundle, searchsetBundle, versionedPath } from './fhir-documents.js';
import { assertTypeAndId, validateResource, type ResourceStore } from './resource-store.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './search.js';
import { fhirDateRange } from './date-range.js';
import { assertValidR4 } from './resource-validator.js';
import type { FhirResource, StoredVersion, WriteOutcome } from './types.js';

/** A resource-level FHIR interaction, from HTTP or from a batch/transaction entry. */
export interface InteractionRequest {
  method: string;
  /** Path segments after the base URL, e.g. `['Patient', '123']`. */
  segments: string[];
  query: URLSearchParams;
  /** Parsed JSON body, if any. */
  body?: unknown;
  /** Version number from `If-Match` (already stripped of `W/"…"`). */
  ifMatch?: string;
  /** Query of `If-None-Exist` (conditional create). */
  ifNoneExist?: string;
  /** `Prefer: handling=lenient`: ignore unsupported search parameters. */
  lenient?: boolean;
  /** Id to give a created resource (transactions pre-assign ids to resolve `urn:uuid:`). */
  assignedId?: string;
  /** The body was already checked against R4 (bundle entries are checked while planning). */
  validated?: boolean;
}

/** What an interaction produced, independent of HTTP. */
export interface InteractionResult {
  status: number;
  body?: FhirResource;
  /** The version written or read; drives ETag, Location and Last-Modified. */
  version?: StoredVersion;
  /** True when `Location` should be set (create / create-on-update). */
  created?: boolean;
}

/**
 * Parses `W/"3"`, `"3"` or `3` into `3`.
 *
 * @example
 * parseIfMatch('W/"3"') // '3'
 */
export function parseIfMatch(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^\s*(?:W\/)?"?([^"]*)"?\s*$/.exec(header);
  if (!match?.[1]) throw new InvalidRequestError('If-Match must look like W/"<versionId>"');
  return match[1];
}

function writeResult(outcome: WriteOutcome): InteractionResult {
  switch (outcome.outcome) {
    case 'created':
      return { status: 201, body: outcome.version.resource, version: outcome.version, created: true };
    case 'deleted':
      return { status: 204, version: outcome.version };
    case 'unchanged':
      // An unchanged update answers with the current version; deleting a deleted resource with nothing.
      return outcome.version.resource
        ? { status: 200, body: outcome.version.resource, version: outcome.version }
        : { status: 204, version: outcome.version };
    default:
      return { status: 200, body: outcome.version.resource, version: outcome.version };
  }
}

function historyPaging(query: URLSearchParams): { count: number; offset: number; since?: string; snapshot?: number } {
  const number = (name: string, fallback: number, max: number): number => {
    const value = query.get(name);
    if (value === null) return fallback;
    if (!/^\d{1,15}$/.test(value)) throw new InvalidRequestError(`${name} must be a non-negative integer`);
    return Math.min(Number(value), max);
  };
  for (const key of query.keys()) {
    if (!['_count', '_offset', '_since', '_snapshot', '_format'].includes(key))
      throw new NotSupportedError(`history parameter ${key.slice(0, 64)} is not supported`);
  }
  const sinceText = query.get('_since');
  const since = sinceText === null ? undefined : fhirDateRange(sinceText)?.start;
  if (sinceText !== null && since === undefined) throw new InvalidRequestError('_since must be a FHIR instant');
  return {
    count: number('_count', DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE),
    offset: number('_offset', 0, Number.MAX_SAFE_INTEGER),
    ...(since ? { since } : {}),
    ...(query.has('_snapshot') ? { snapshot: number('_snapshot', 0, Number.MAX_SAFE_INTEGER) } : {}),
  };
}

/** The request body as a resource of `type`, validated against R4 unless that was done already. */
function writableBody(request: InteractionRequest, type: string): FhirResource {
  const resource = validateResource(request.body, type);
  if (!request.validated) assertValidR4(resource);
  return resource;
}

/**
 * Performs one resource-level interaction (create, read, vread, update, delete,
 * conditional create/update, search, history) against the store.
 *
 * @example
 * performInteraction(store, baseUrl, { method: 'GET', segments: ['Patient', '1'], query: new URLSearchParams() });
 */
export function performInteraction(
  store: ResourceStore,
  baseUrl: string,
  request: InteractionRequest,
): InteractionResult {
  const { method, segments, query } = request;
  const [type, id, history, versionId, ...rest] = segments;
  if (type === undefined || rest.length > 0)
    throw new InvalidRequestError(`unsupported path /${segments.join('/').slice(0, 128)}`);
  const path = `/${segments.join('/')}`;
  if (type === '_history' && segments.length === 1) {
    if (method !== 'GET') throw new MethodNotAllowedError(method, path, ['GET']);
    return { status: 200, body: historyBundle(baseUrl, `${baseUrl}/_history`, store.history(historyPaging(query))) };
  }
  assertTypeAndId(type);
  if (id === undefined) {
    if (method === 'GET')
      return {
        status: 200,
        body: searchsetBundle(baseUrl, type, query, store.search(type, query, { lenient: request.lenient ?? false })),
      };
    if (method === 'POST') {
      const resource = writableBody(request, type);
      // The header holds a query; tolerate clients that send `Type?query`.
      const ifNoneExist = request.ifNoneExist?.slice(request.ifNoneExist.indexOf('?') + 1);
      const outcome = ifNoneExist
        ? store.createIfNoneExist(resource, new URLSearchParams(ifNoneExist), request.assignedId)
        : store.create(resource, request.assignedId);
      return writeResult(outcome);
    }
    if (method === 'PUT') {
      if ([...query.keys()].length === 0)
        throw new InvalidRequestError('PUT needs an id or search criteria (conditional update)');
      const resource = writableBody(request, type);
      return writeResult(
        store.conditionalUpdate(type, query, resource, request.ifMatch ? { ifMatch: request.ifMatch } : {}),
      );
    }
    throw new MethodNotAllowedError(method, path, ['GET', 'POST', 'PUT']);
  }
  if (id === '_history' && history === undefined) {
    if (method !== 'GET') throw new MethodNotAllowedError(method, path, ['GET']);
    return {
      status: 200,
      body: historyBundle(baseUrl, `${baseUrl}${path}`, store.history({ type, ...historyPaging(query) })),
    };
  }
  if (id === '_search' && history === undefined) {
    if (method !== 'POST') throw new MethodNotAllowedError(method, path, ['POST']);
    return {
      status: 200,
      body: searchsetBundle(baseUrl, type, query, store.search(type, query, { lenient: request.lenient ?? false })),
    };
  }
  assertTypeAndId(type, id);
  if (history === undefined) {
    switch (method) {
      case 'GET': {
        const version = store.read(type, id);
        return { status: 200, body: version.resource, version };
      }
      case 'PUT': {
        const resource = writableBody(request, type);
        return writeResult(store.update(type, id, resource, request.ifMatch ? { ifMatch: request.ifMatch } : {}));
      }
      case 'DELETE':
        return writeResult(store.delete(type, id, request.ifMatch ? { ifMatch: request.ifMatch } : {}));
      default:
        throw new MethodNotAllowedError(method, path, ['GET', 'PUT', 'DELETE']);
    }
  }
  if (history !== '_history') throw new InvalidRequestError(`unsupported path ${path.slice(0, 128)}`);
  if (method !== 'GET') throw new MethodNotAllowedError(method, path, ['GET']);
  if (versionId === undefined) {
    return {
      status: 200,
      body: historyBundle(baseUrl, `${baseUrl}${path}`, store.history({ type, id, ...historyPaging(query) })),
    };
  }
  const version = store.vread(type, id, versionId);
  return { status: 200, body: version.resource, version };
}

/** Absolute versioned location of a version. *
 * @example
 * res.setHeader('Location', locationOf(baseUrl, version));
 */
export function locationOf(baseUrl: string, version: StoredVersion): string {
  return `${baseUrl}/${versionedPath(version)}`;
}
