import { FhirWriteError, PatientEnrichmentError } from './errors.js';
import { DEFAULT_IDENTIFIER_SYSTEM } from './map-patient.js';
import type { EnrichmentFailure, FhirPatient, PatientChange } from './types.js';

/** An HTTP request to the FHIR store, before it is sent (and signed). */
export interface FhirHttpRequest {
  method: 'GET' | 'PUT' | 'DELETE';
  url: string;
  headers: Record<string, string>;
  body?: string;
}

/** Signs a request (e.g. SigV4 for HealthLake, service `healthlake`) and returns the signed copy. */
export type FhirRequestSigner = (request: FhirHttpRequest) => Promise<FhirHttpRequest>;

/** Options of {@link FhirWriteThrough}. */
export interface FhirWriteThroughOptions {
  /** FHIR base URL, e.g. `https://healthlake.us-east-1.amazonaws.com/datastore/<id>/r4`. */
  baseUrl: string;
  /**
   * `id` (default): read and write `Patient/<id>`. `identifier`: find the Patient by
   * `identifier=<system>|<id>` and use conditional update/delete when it does not exist yet.
   */
  addressing?: 'id' | 'identifier';
  /** System of the domain-id identifier. Default `urn:tributary:patient-id`. */
  identifierSystem?: string;
  sign?: FhirRequestSigner;
  /** Injected `fetch`; default the global one. */
  fetch?: typeof fetch;
}

/** What a write-through did for one change. */
export type WriteThroughAction = 'created' | 'updated' | 'unchanged' | 'deleted' | 'already-absent';

/** Outcome for one applied change. */
export interface WriteThroughOutcome {
  correlationId: string;
  /** `Patient/<id>` as addressed in the store. */
  reference: string;
  action: WriteThroughAction;
}

/** Result of {@link FhirWriteThrough.applyAll}. */
export interface WriteThroughResult {
  outcomes: WriteThroughOutcome[];
  failures: EnrichmentFailure[];
}

/** Keys sorted at every level, so equal resources serialise identically. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}

/** Server-managed parts that do not make two Patients different. */
function withoutServerFields(resource: Record<string, unknown>): Record<string, unknown> {
  const { meta: _meta, text: _text, ...rest } = resource;
  return rest;
}

const CONFLICT_RETRIES = 3;

/**
 * Applies patient changes to a FHIR store, idempotently: a `PUT` is skipped when the stored
 * Patient already equals the new one (ignoring `meta` and `text`), so replaying a change leaves
 * one version; otherwise it updates with `If-Match` on the version read (retrying on 412).
 * A `DELETE` of a Patient that is already gone succeeds as `already-absent`.
 * Errors carry HTTP status and Patient id only; response bodies may echo PHI and are never kept.
 *
 * @example
 * const store = new FhirWriteThrough({ baseUrl: 'http://127.0.0.1:8080/fhir', sign: sigv4 });
 * const { outcomes, failures } = await store.applyAll(events);
 */
export class FhirWriteThrough {
  readonly #base: string;
  readonly #addressing: 'id' | 'identifier';
  readonly #system: string;
  readonly #sign: FhirRequestSigner | undefined;
  readonly #fetch: typeof fetch;

  public constructor(options: FhirWriteThroughOptions) {
    this.#base = options.baseUrl.replace(/\/+$/, '');
    this.#addressing = options.addressing ?? 'id';
    this.#system = options.identifierSystem ?? DEFAULT_IDENTIFIER_SYSTEM;
    this.#sign = options.sign;
    this.#fetch = options.fetch ?? fetch;
  }

  /**
   * Applies changes in order (so a DELETE after a PUT of the same Patient wins); one failure
   * does not stop the rest.
   *
   * @example
   * const { failures } = await store.applyAll(events);
   */
  public async applyAll(changes: readonly PatientChange[]): Promise<WriteThroughResult> {
    const result: WriteThroughResult = { outcomes: [], failures: [] };
    for (const change of changes) {
      try {
        result.outcomes.push(await this.apply(change));
      } catch (error) {
        const known = error instanceof PatientEnrichmentError;
        result.failures.push({
          eventId: change.correlationId,
          reason: known ? error.message : 'unexpected error writing to the FHIR store',
          errorType: error instanceof Error ? error.name : 'UnknownError',
        });
      }
    }
    return result;
  }

  /**
   * Applies one change.
   *
   * @example
   * const { action } = await store.apply(change); // 'created' | 'updated' | 'unchanged' | …
   */
  public async apply(change: PatientChange): Promise<WriteThroughOutcome> {
    if (change.command === 'DELETE') {
      if (!('reference' in change.resource)) throw new FhirWriteError('DELETE change without a Patient reference');
      return this.#delete(change.correlationId, change.resource.reference.slice('Patient/'.length));
    }
    if (!('resourceType' in change.resource)) throw new FhirWriteError('PUT change without a Patient resource');
    return this.#put(change.correlationId, change.resource);
  }

  async #put(correlationId: string, patient: FhirPatient): Promise<WriteThroughOutcome> {
    for (let attempt = 1; ; attempt += 1) {
      const stored = await this.#find(patient.id);
      const body: Record<string, unknown> = { ...patient };
      let url: string;
      const headers: Record<string, string> = {};
      if (stored) {
        body.id = stored.id;
        if (canonicalJson(withoutServerFields(stored.resource)) === canonicalJson(withoutServerFields(body))) {
          return { correlationId, reference: `Patient/${stored.id}`, action: 'unchanged' };
        }
        url = `${this.#base}/Patient/${encodeURIComponent(stored.id)}`;
        if (stored.versionId !== undefined) headers['If-Match'] = `W/"${stored.versionId}"`;
      } else if (this.#addressing === 'identifier') {
        delete body.id; // the store assigns the id on a conditional create
        url = `${this.#base}/Patient?identifier=${encodeURIComponent(this.#token(patient.id))}`;
      } else {
        url = `${this.#base}/Patient/${encodeURIComponent(patient.id)}`;
      }
      const response = await this.#send('PUT', url, headers, JSON.stringify(body));
      if (response.status === 412 && attempt < CONFLICT_RETRIES) continue; // changed under us: re-read
      if (!response.ok)
        throw new FhirWriteError(`PUT Patient ${patient.id} failed with HTTP ${response.status}`, response.status);
      const written = (await response.json().catch(() => undefined)) as { id?: string } | undefined;
      return {
        correlationId,
        reference: `Patient/${written?.id ?? stored?.id ?? patient.id}`,
        action: response.status === 201 ? 'created' : 'updated',
      };
    }
  }

  async #delete(correlationId: string, id: string): Promise<WriteThroughOutcome> {
    const url =
      this.#addressing === 'identifier'
        ? `${this.#base}/Patient?identifier=${encodeURIComponent(this.#token(id))}`
        : `${this.#base}/Patient/${encodeURIComponent(id)}`;
    const response = await this.#send('DELETE', url, {});
    await response.body?.cancel();
    const reference = `Patient/${id}`;
    if (response.status === 404 || response.status === 410)
      return { correlationId, reference, action: 'already-absent' };
    if (!response.ok)
      throw new FhirWriteError(`DELETE Patient ${id} failed with HTTP ${response.status}`, response.status);
    return { correlationId, reference, action: 'deleted' };
  }

  /** The stored Patient for a domain id, or `undefined`. */
  async #find(id: string): Promise<{ id: string; versionId?: string; resource: Record<string, unknown> } | undefined> {
    if (this.#addressing === 'id') {
      const response = await this.#send('GET', `${this.#base}/Patient/${encodeURIComponent(id)}`, {});
      if (response.status === 404 || response.status === 410) {
        await response.body?.cancel();
        return undefined;
      }
      if (!response.ok)
        throw new FhirWriteError(`GET Patient ${id} failed with HTTP ${response.status}`, response.status);
      const resource = (await response.json()) as Record<string, unknown>;
      return { id, versionId: versionOf(resource, response), resource };
    }
    const url = `${this.#base}/Patient?identifier=${encodeURIComponent(this.#token(id))}`;
    const response = await this.#send('GET', url, {});
    if (!response.ok)
      throw new FhirWriteError(`search Patient ${id} failed with HTTP ${response.status}`, response.status);
    const bundle = (await response.json()) as { entry?: Array<{ resource?: Record<string, unknown> }> };
    const matches = (bundle.entry ?? []).map((entry) => entry.resource).filter((r) => r?.resourceType === 'Patient');
    if (matches.length > 1)
      throw new FhirWriteError(`identifier of Patient ${id} matches ${matches.length} Patients`, 412);
    const [match] = matches;
    if (!match || typeof match.id !== 'string') return undefined;
    return { id: match.id, versionId: versionOf(match), resource: match };
  }

  #token(id: string): string {
    return `${this.#system}|${id}`;
  }

  async #send(method: FhirHttpRequest['method'], url: string, headers: Record<string, string>, body?: string) {
    let request: FhirHttpRequest = {
      method,
      url,
      headers: {
        accept: 'application/fhir+json',
        ...(body === undefined ? {} : { 'content-type': 'application/fhir+json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body }),
    };
    if (this.#sign) request = await this.#sign(request);
    try {
      return await this.#fetch(request.url, {
        method: request.method,
        headers: request.headers,
        ...(request.body === undefined ? {} : { body: request.body }),
      });
    } catch (error) {
      throw new FhirWriteError(`${method} ${new URL(url).pathname} failed: ${(error as Error).name}`);
    }
  }
}

function versionOf(resource: Record<string, unknown>, response?: Response): string | undefined {
  const meta = resource.meta as { versionId?: unknown } | undefined;
  if (typeof meta?.versionId === 'string') return meta.versionId;
  const etag = response?.headers.get('etag');
  return etag ? etag.replace(/^W\//, '').replace(/"/g, '') : undefined;
}
