import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DirectoryObjectStore } from '../../../src/local/object-store/directory-object-store.js';
import { startFhirServer, type FhirServer, type FhirServerOptions } from '../../../src/local/fhir-store/index.js';

/** Parsed JSON under test: assertions inspect it freely. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed response bodies
export type Json = any;

/** A server in a fresh temp state dir, plus small fetch helpers. */
export interface Harness {
  server: FhirServer;
  dir: string;
  base: string;
  bucket(name?: string): DirectoryObjectStore;
  request(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; headers: Headers; json: Json }>;
  restart(overrides?: Partial<FhirServerOptions>): Promise<void>;
  close(): Promise<void>;
}

export async function startHarness(overrides: Partial<FhirServerOptions> = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-fhir-'));
  const options = (): FhirServerOptions => ({
    dbFile: join(dir, 'fhir.sqlite'),
    exportStore: (bucket) => new DirectoryObjectStore(join(dir, 's3', bucket)),
    ...overrides,
  });
  const harness: Harness = {
    server: await startFhirServer(options()),
    dir,
    base: '',
    bucket: (name = 'tributary-export') => new DirectoryObjectStore(join(dir, 's3', name)),
    async request(method, path, body, headers = {}) {
      const url = path.startsWith('http') ? path : `${harness.base}${path}`;
      const response = await fetch(url, {
        method,
        headers: { 'content-type': 'application/fhir+json', ...headers },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      const text = await response.text();
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = text;
      }
      return { status: response.status, headers: response.headers, json };
    },
    async restart(more = {}) {
      await harness.server.close();
      overrides = { ...overrides, ...more };
      harness.server = await startFhirServer(options());
      harness.base = harness.server.fhirBaseUrl;
    },
    async close() {
      await harness.server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  harness.base = harness.server.fhirBaseUrl;
  return harness;
}

/** A small patient resource (synthetic data, no real PHI). */
export function patient(family: string, given: string, birthDate: string, mrn?: string): Record<string, unknown> {
  return {
    resourceType: 'Patient',
    name: [{ family, given: [given] }],
    birthDate,
    ...(mrn ? { identifier: [{ system: 'urn:example:mrn', value: mrn }] } : {}),
  };
}

/** Waits for an export job to leave SUBMITTED/IN_PROGRESS and returns the final status response. */
export async function pollExport(harness: Harness, statusUrl: string): Promise<{ status: number; json: Json }> {
  for (;;) {
    const response = await harness.request('GET', statusUrl);
    if (response.status !== 202) return response;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Reads an NDJSON object of the local S3 as parsed lines. */
export async function readNdjson(store: DirectoryObjectStore, key: string): Promise<Json[]> {
  const body = await store.get(key);
  if (!body) throw new Error(`missing ${key}`);
  return Buffer.from(body)
    .toString('utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line));
}
