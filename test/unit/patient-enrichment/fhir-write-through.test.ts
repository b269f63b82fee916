import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  enrichPatientBatch,
  FhirWriteThrough,
  type FhirHttpRequest,
  type PatientChange,
} from '../../../src/patient-enrichment/index.js';
import { domainPatient, PHI_VALUES, streamRecord } from './fixtures.js';

const SYSTEM = 'urn:tributary:patient-id';
const clock = { now: () => new Date('2025-06-15T12:00:00Z') };

interface Stored {
  resource: Record<string, unknown>;
  version: number;
  deleted: boolean;
}

/** A tiny FHIR server: read, update (create on PUT), conditional update/delete by identifier, delete. */
class TinyFhirServer {
  public readonly patients = new Map<string, Stored>();
  public readonly requests: Array<{ method: string; url: string; headers: IncomingMessage['headers'] }> = [];
  public failNext: { method: string; status: number } | undefined;
  #server: Server | undefined;
  #nextId = 1;

  public async start(): Promise<string> {
    this.#server = createServer((req, res) => void this.#handle(req, res));
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/fhir`;
  }

  public async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.#server?.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = '';
    for await (const chunk of req) body += String(chunk);
    this.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    const send = (status: number, payload?: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/fhir+json', ...headers });
      res.end(payload === undefined ? undefined : JSON.stringify(payload));
    };
    if (this.failNext && this.failNext.method === req.method) {
      const { status } = this.failNext;
      this.failNext = undefined;
      return send(status, { resourceType: 'OperationOutcome', issue: [{ diagnostics: body }] });
    }
    const url = new URL(req.url ?? '/', 'http://x');
    const match = /^\/fhir\/Patient(?:\/([^/]+))?$/.exec(url.pathname);
    if (!match) return send(404);
    let id = match[1] ? decodeURIComponent(match[1]) : undefined;
    const identifier = url.searchParams.get('identifier');
    const live = [...this.patients.entries()].filter(([, p]) => !p.deleted);
    if (!id && identifier) {
      const [system, value] = identifier.split('|');
      const found = live.filter(([, p]) =>
        (p.resource.identifier as Array<{ system: string; value: string }>).some(
          (i) => i.system === system && i.value === value,
        ),
      );
      if (req.method === 'GET') {
        return send(200, {
          resourceType: 'Bundle',
          type: 'searchset',
          entry: found.map(([, p]) => ({ resource: this.#view(p) })),
        });
      }
      if (found.length > 1) return send(412);
      id = found[0]?.[0];
      if (!id && req.method === 'DELETE') return send(204);
      if (!id) id = `srv-${this.#nextId++}`;
    }
    if (!id) return send(400);
    const stored = this.patients.get(id);
    switch (req.method) {
      case 'GET':
        if (!stored) return send(404);
        if (stored.deleted) return send(410);
        return send(200, this.#view(stored), { etag: `W/"${stored.version}"` });
      case 'PUT': {
        const ifMatch = req.headers['if-match'];
        if (ifMatch && (!stored || ifMatch !== `W/"${stored.version}"`)) return send(412);
        const resource = { ...(JSON.parse(body) as Record<string, unknown>), id };
        const version = (stored?.version ?? 0) + 1;
        const created = !stored || stored.deleted;
        const next = { resource, version, deleted: false };
        this.patients.set(id, next);
        return send(created ? 201 : 200, this.#view(next));
      }
      case 'DELETE':
        if (!stored || stored.deleted) return send(404);
        this.patients.set(id, { ...stored, version: stored.version + 1, deleted: true });
        return send(204);
      default:
        return send(405);
    }
  }

  #view(stored: Stored) {
    return {
      ...stored.resource,
      meta: {
        versionId: String(stored.version),
        lastUpdated: new Date(1_700_000_000_000 + stored.version).toISOString(),
      },
    };
  }
}

async function changes(...records: ReturnType<typeof streamRecord>[]): Promise<PatientChange[]> {
  const { events, failures } = await enrichPatientBatch(records, { clock });
  expect(failures).toEqual([]);
  return events;
}

describe('FhirWriteThrough', () => {
  let server: TinyFhirServer;
  let baseUrl: string;

  beforeEach(async () => {
    server = new TinyFhirServer();
    baseUrl = await server.start();
  });

  afterEach(async () => {
    await server.stop();
  });

  it('creates a Patient, and replaying the same change leaves one version', async () => {
    const store = new FhirWriteThrough({ baseUrl });
    const events = await changes(streamRecord('INSERT', domainPatient()));
    const first = await store.applyAll(events);
    const replay = await store.applyAll(events);
    expect(first).toEqual({
      outcomes: [{ correlationId: events[0]!.correlationId, reference: 'Patient/p-123', action: 'created' }],
      failures: [],
    });
    expect(replay.outcomes.map((o) => o.action)).toEqual(['unchanged']);
    expect(server.patients.get('p-123')?.version).toBe(1);
    expect(server.requests.filter((r) => r.method === 'PUT')).toHaveLength(1);
  });

  it('updates a changed Patient with If-Match on the version it read', async () => {
    const store = new FhirWriteThrough({ baseUrl });
    await store.applyAll(await changes(streamRecord('INSERT', domainPatient())));
    const { outcomes } = await store.applyAll(
      await changes(streamRecord('MODIFY', domainPatient({ phone: '+1-555-0199' }))),
    );
    expect(outcomes.map((o) => o.action)).toEqual(['updated']);
    expect(server.patients.get('p-123')?.version).toBe(2);
    expect((server.patients.get('p-123')?.resource.telecom as Array<{ value: string }>)[0]?.value).toBe('+1-555-0199');
    expect(server.requests.filter((r) => r.method === 'PUT').at(-1)?.headers['if-match']).toBe('W/"1"');
  });

  it('re-reads and retries when the Patient changed between read and write (412)', async () => {
    const store = new FhirWriteThrough({ baseUrl });
    await store.applyAll(await changes(streamRecord('INSERT', domainPatient())));
    server.failNext = { method: 'PUT', status: 412 };
    const { outcomes, failures } = await store.applyAll(
      await changes(streamRecord('MODIFY', domainPatient({ gender: 'M' }))),
    );
    expect(failures).toEqual([]);
    expect(outcomes.map((o) => o.action)).toEqual(['updated']);
    expect(server.patients.get('p-123')?.resource.gender).toBe('male');
  });

  it('deletes, and deleting again is already-absent, in event order', async () => {
    const store = new FhirWriteThrough({ baseUrl });
    const events = await changes(
      streamRecord('INSERT', domainPatient()),
      streamRecord('REMOVE', domainPatient()),
      streamRecord('REMOVE', domainPatient()),
    );
    const { outcomes } = await store.applyAll(events);
    expect(outcomes.map((o) => o.action)).toEqual(['created', 'deleted', 'already-absent']);
    expect(server.patients.get('p-123')?.deleted).toBe(true);
    expect(server.requests.filter((r) => r.method === 'DELETE').map((r) => r.url)).toEqual([
      '/fhir/Patient/p-123',
      '/fhir/Patient/p-123',
    ]);
  });

  it('addresses by identifier: conditional create, then skip an identical replay', async () => {
    const store = new FhirWriteThrough({ baseUrl, addressing: 'identifier' });
    const events = await changes(streamRecord('INSERT', domainPatient()));
    const first = await store.applyAll(events);
    const replay = await store.applyAll(events);
    expect(first.outcomes).toEqual([
      { correlationId: events[0]!.correlationId, reference: 'Patient/srv-1', action: 'created' },
    ]);
    expect(replay.outcomes.map((o) => o.action)).toEqual(['unchanged']);
    expect([...server.patients.keys()]).toEqual(['srv-1']);
    expect(server.patients.get('srv-1')?.version).toBe(1);
    const put = server.requests.find((r) => r.method === 'PUT');
    expect(decodeURIComponent(put?.url ?? '')).toBe(`/fhir/Patient?identifier=${SYSTEM}|p-123`);

    const deleted = await store.applyAll(await changes(streamRecord('REMOVE', domainPatient())));
    expect(deleted.outcomes.map((o) => o.action)).toEqual(['deleted']);
    expect(server.patients.get('srv-1')?.deleted).toBe(true);
  });

  it('signs every request through the sign hook', async () => {
    const signed: FhirHttpRequest[] = [];
    const store = new FhirWriteThrough({
      baseUrl,
      sign: async (request) => {
        signed.push(request);
        return { ...request, headers: { ...request.headers, authorization: 'AWS4-HMAC-SHA256 test' } };
      },
    });
    await store.applyAll(await changes(streamRecord('INSERT', domainPatient())));
    expect(signed.map((r) => r.method)).toEqual(['GET', 'PUT']);
    expect(signed[1]?.headers['content-type']).toBe('application/fhir+json');
    expect(JSON.parse(signed[1]?.body ?? '{}')).toMatchObject({ resourceType: 'Patient', id: 'p-123' });
    expect(server.requests.every((r) => r.headers.authorization === 'AWS4-HMAC-SHA256 test')).toBe(true);
  });

  it('reports a failed write by eventId and status without PHI, and carries on', async () => {
    const store = new FhirWriteThrough({ baseUrl });
    const events = await changes(
      streamRecord('INSERT', domainPatient()),
      streamRecord('INSERT', domainPatient({ id: 'p-2' })),
    );
    server.failNext = { method: 'PUT', status: 500 };
    const { outcomes, failures } = await store.applyAll(events);
    expect(failures).toEqual([
      {
        eventId: events[0]!.correlationId,
        reason: 'PUT Patient p-123 failed with HTTP 500',
        errorType: 'FhirWriteError',
      },
    ]);
    expect(outcomes.map((o) => o.reference)).toEqual(['Patient/p-2']);
    for (const value of PHI_VALUES) expect(JSON.stringify(failures)).not.toContain(value);
  });

  it('reports an unreachable store as a failure', async () => {
    const store = new FhirWriteThrough({ baseUrl: 'http://127.0.0.1:1/fhir' });
    const { failures } = await store.applyAll(await changes(streamRecord('INSERT', domainPatient())));
    expect(failures).toHaveLength(1);
    expect(failures[0]?.errorType).toBe('FhirWriteError');
  });
});
