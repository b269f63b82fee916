import { randomUUID } from 'node:crypto';
import { FhirError, InvalidRequestError, ResourceValidationError } from './errors.js';
import { etagOf, operationOutcome, outcomeOf, versionedPath, type OutcomeIssue } from './fhir-documents.js';
import { performInteraction, type InteractionRequest, type InteractionResult } from './interactions.js';
import { assertTypeAndId, validateResource, type ResourceStore } from './resource-store.js';
import { writeOutcome, type Preferences } from './prefer.js';
import { assertValidR4, checkResource } from './resource-validator.js';
import type { FhirResource } from './types.js';

interface BundleEntry {
  fullUrl?: string;
  resource?: FhirResource;
  request?: { method?: string; url?: string; ifNoneExist?: string; ifMatch?: string };
}

interface PlannedEntry {
  index: number;
  fullUrl?: string;
  request: InteractionRequest;
}

/** `Type?search` references, resolved by search inside a transaction. */
const CONDITIONAL_REFERENCE = /^[A-Z][A-Za-z]+\?./;

const STATUS_TEXT: Record<number, string> = { 200: 'OK', 201: 'Created', 204: 'No Content' };

/** Order in which a transaction processes its entries (FHIR R4 §3.1.0.11.2). */
const TRANSACTION_ORDER: Record<string, number> = { DELETE: 0, POST: 1, PUT: 2, GET: 3 };

/**
 * Processes a `batch` or `transaction` Bundle posted to the base URL.
 *
 * A transaction is atomic (one SQLite transaction), processes DELETE, POST, PUT, GET in
 * that order, and rewrites every `reference` that names another entry's `fullUrl`
 * (e.g. `urn:uuid:…`) to the `Type/id` the server assigned, and conditional references
 * (`Type?identifier=…`) to their single match. A batch runs each entry
 * on its own and reports each outcome.
 *
 * @example
 * const response = processBundle(store, baseUrl, syntheaBundle);
 */
export function processBundle(
  store: ResourceStore,
  baseUrl: string,
  body: unknown,
  returnPreference?: Preferences['return'],
): FhirResource {
  const bundle = validateResource(body, 'Bundle');
  if (bundle.type !== 'transaction' && bundle.type !== 'batch') {
    throw new InvalidRequestError('only Bundles of type transaction or batch can be posted to the base URL');
  }
  if (bundle.entry !== undefined && !Array.isArray(bundle.entry))
    throw new InvalidRequestError('Bundle.entry must be an array', 'structure');
  const entries = (bundle.entry ?? []) as BundleEntry[];
  assertValidR4(bundleShell(bundle));
  if (bundle.type === 'batch') return processBatch(store, baseUrl, entries, returnPreference);
  // Plan (and validate) every entry before failing, so the 400 lists every invalid entry.
  const planned: PlannedEntry[] = [];
  const invalid: OutcomeIssue[] = [];
  entries.forEach((entry, index) => {
    try {
      planned.push(planEntry(baseUrl, entry, index));
    } catch (error) {
      if (!(error instanceof ResourceValidationError) || !error.issues) throw error;
      invalid.push(...error.issues);
    }
  });
  if (invalid.length > 0) throw new ResourceValidationError('Bundle', invalid);
  return store.transaction(() => processTransaction(store, baseUrl, planned, returnPreference));
}

function processBatch(
  store: ResourceStore,
  baseUrl: string,
  entries: BundleEntry[],
  returnPreference: Preferences['return'],
): FhirResource {
  const responses = entries.map((entry, index) => {
    try {
      const planned = planEntry(baseUrl, entry, index);
      return responseEntry(
        planned.request.method,
        store.transaction(() => performInteraction(store, baseUrl, planned.request)),
        returnPreference,
      );
    } catch (error) {
      const failure = asFhirError(error);
      return {
        response: {
          status: String(failure.status),
          outcome: failure.issues
            ? outcomeOf(failure.issues)
            : operationOutcome('error', failure.issueCode, `entry ${index}: ${failure.message}`),
        },
      };
    }
  });
  return { resourceType: 'Bundle', type: 'batch-response', entry: responses };
}

function processTransaction(
  store: ResourceStore,
  baseUrl: string,
  planned: PlannedEntry[],
  returnPreference: Preferences['return'],
): FhirResource {
  const order = [...planned].sort(
    (a, b) =>
      (TRANSACTION_ORDER[a.request.method] ?? 9) - (TRANSACTION_ORDER[b.request.method] ?? 9) || a.index - b.index,
  );
  const identities = new Map<string, string>();
  const seenTargets = new Set<string>();
  // Resolve every entry's identity first, so references may point forward.
  for (const entry of order) {
    const { method, segments, query } = entry.request;
    const [type, id] = segments;
    if (method === 'GET' || type === undefined) continue;
    let target: string | undefined;
    if (method === 'POST') {
      const existing = entry.request.ifNoneExist
        ? store.matchIds(type, new URLSearchParams(entry.request.ifNoneExist))
        : [];
      target = `${type}/${existing.length === 1 && existing[0] ? existing[0] : (entry.request.assignedId = randomUUID())}`;
    } else if (id !== undefined) {
      target = `${type}/${id}`;
    } else if (method === 'PUT') {
      const matches = store.matchIds(type, query);
      if (matches.length === 1 && matches[0]) target = `${type}/${matches[0]}`;
    }
    if (target !== undefined) {
      if (seenTargets.has(target) && method !== 'POST')
        throw failAt(entry, new InvalidRequestError(`${target} appears in more than one entry`));
      seenTargets.add(target);
      if (entry.fullUrl) identities.set(entry.fullUrl, target);
    }
  }
  const results = new Map<number, InteractionResult>();
  const resolve = (reference: string): string | undefined => {
    const known = identities.get(reference);
    if (known !== undefined || !CONDITIONAL_REFERENCE.test(reference)) return known;
    // Conditional reference (e.g. Synthea's `Organization?identifier=…`): exactly one match, seen as of this entry.
    const [type = '', search = ''] = reference.split('?', 2);
    const matches = store.matchIds(type, new URLSearchParams(search));
    if (matches.length !== 1)
      throw new InvalidRequestError(
        `conditional reference to ${type} matched ${matches.length} resources (needs exactly 1)`,
      );
    return `${type}/${matches[0]}`;
  };
  for (const entry of order) {
    try {
      if (entry.request.body !== undefined) rewriteReferences(entry.request.body, resolve);
      results.set(entry.index, performInteraction(store, baseUrl, entry.request));
    } catch (error) {
      throw failAt(entry, error);
    }
  }
  return {
    resourceType: 'Bundle',
    type: 'transaction-response',
    entry: planned.map((entry) =>
      responseEntry(entry.request.method, results.get(entry.index) as InteractionResult, returnPreference),
    ),
  };
}

function failAt(entry: PlannedEntry, error: unknown): FhirError {
  const failure = asFhirError(error);
  const located = new FhirError(
    failure.status,
    failure.issueCode,
    `transaction entry ${entry.index} (${entry.request.method}): ${failure.message}`,
    failure.issues,
  );
  return located;
}

function asFhirError(error: unknown): FhirError {
  if (error instanceof FhirError) return error;
  throw error;
}

/** Replaces, anywhere in `value`, `reference` strings that `resolve` maps to another reference. */
function rewriteReferences(value: unknown, resolve: (reference: string) => string | undefined): void {
  if (Array.isArray(value)) {
    for (const item of value) rewriteReferences(item, resolve);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  const record = value as Record<string, unknown>;
  for (const [key, child] of Object.entries(record)) {
    if (key === 'reference' && typeof child === 'string') {
      const target = resolve(child);
      if (target !== undefined) record[key] = target;
    } else if (typeof child === 'object' && child !== null) {
      rewriteReferences(child, resolve);
    }
  }
}

function planEntry(baseUrl: string, entry: BundleEntry, index: number): PlannedEntry {
  const fail = (message: string): never => {
    throw new InvalidRequestError(`entry ${index}: ${message}`);
  };
  if (typeof entry !== 'object' || entry === null) fail('must be an object');
  const method = entry.request?.method;
  if (typeof method !== 'string' || !(method in TRANSACTION_ORDER))
    fail('request.method must be GET, POST, PUT or DELETE');
  const rawUrl = entry.request?.url;
  if (typeof rawUrl !== 'string' || rawUrl.length === 0) fail('request.url is required');
  const relative = (rawUrl as string).startsWith(`${baseUrl}/`)
    ? (rawUrl as string).slice(baseUrl.length + 1)
    : (rawUrl as string);
  const questionMark = relative.indexOf('?');
  const path = questionMark >= 0 ? relative.slice(0, questionMark) : relative;
  const query = new URLSearchParams(questionMark >= 0 ? relative.slice(questionMark + 1) : '');
  const segments = path
    .split('/')
    .filter((segment) => segment.length > 0)
    .map(decodeURIComponent);
  const [type, id] = segments;
  if (type === undefined) fail('request.url must name a resource type');
  const request: InteractionRequest = { method: method as string, segments, query };
  if (method === 'POST' || method === 'PUT') {
    if (entry.resource === undefined) fail(`${method as string} needs a resource`);
    assertTypeAndId(type as string, method === 'PUT' ? id : undefined);
    const resource = validateResource(entry.resource, type);
    request.body = resource;
    const { errors } = checkResource(resource);
    if (errors.length > 0)
      throw new ResourceValidationError(
        'Bundle',
        errors.map((issue) => inEntry(issue, index)),
      );
    request.validated = true;
    if (method === 'PUT' && id !== undefined && entry.resource?.id === undefined)
      request.body = { ...entry.resource, id };
  }
  if (entry.request?.ifNoneExist) request.ifNoneExist = entry.request.ifNoneExist;
  if (entry.request?.ifMatch) request.ifMatch = entry.request.ifMatch.replace(/^W\//, '').replace(/"/g, '');
  return { index, request, ...(typeof entry.fullUrl === 'string' ? { fullUrl: entry.fullUrl } : {}) };
}

/** Locates an entry resource's issue in the Bundle: `Patient.gender` → `Bundle.entry[3].resource.gender`. */
function inEntry(issue: OutcomeIssue, index: number): OutcomeIssue {
  const expression = (issue.expression ?? []).map(
    (path) => `Bundle.entry[${index}].resource${path.slice(Math.max(0, path.indexOf('.')))}`,
  );
  return { ...issue, expression };
}

/**
 * The Bundle without its entries, for validating its own elements: each entry resource is validated on
 * its own and planning checks each entry's request; crawling every entry again costs ingest ~15%.
 */
function bundleShell(bundle: FhirResource): FhirResource {
  const { entry: _entry, ...shell } = bundle;
  return shell;
}

/**
 * GET entries return their resource; writes answer with status, location and etag only (return=minimal),
 * plus the resource under `Prefer: return=representation` or an outcome under `return=OperationOutcome`.
 */
function responseEntry(
  method: string,
  result: InteractionResult,
  returnPreference: Preferences['return'],
): Record<string, unknown> {
  const version = result.version;
  const response: Record<string, unknown> = { status: `${result.status} ${STATUS_TEXT[result.status] ?? ''}`.trim() };
  if (version) {
    response.etag = etagOf(version.versionId);
    response.lastModified = version.lastUpdated;
    if (method !== 'GET') response.location = versionedPath(version);
  }
  if (method !== 'GET' && returnPreference === 'OperationOutcome') response.outcome = writeOutcome(method, result);
  const withResource = method === 'GET' || returnPreference === 'representation';
  return { ...(withResource && result.body ? { resource: result.body } : {}), response };
}
