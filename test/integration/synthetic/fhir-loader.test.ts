import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FhirSeedRequestError,
  generatePopulation,
  seedFhir,
  type TransactionBundle,
} from '../../../src/synthetic/index.js';

interface Recorded {
  path: string;
  contentType: string | undefined;
  bundle: TransactionBundle;
}

type Reply = (bundle: TransactionBundle, n: number, res: ServerResponse) => void;

const transactionResponse = (bundle: TransactionBundle) => ({
  resourceType: 'Bundle',
  type: 'transaction-response',
  entry: bundle.entry.map((entry) => ({
    response: {
      status: '201 Created',
      location: `${entry.resource.resourceType}/${entry.resource.id ?? 'x'}/_history/1`,
    },
  })),
});

const ok: Reply = (bundle, _n, res) => {
  res.writeHead(200, { 'content-type': 'application/fhir+json' });
  res.end(JSON.stringify(transactionResponse(bundle)));
};

/** A stand-in FHIR server on 127.0.0.1 that records every POSTed bundle. */
async function startFakeFhir(
  reply: Reply,
): Promise<{ server: Server; baseUrl: string; recorded: Recorded[]; stats: { maxInFlight: number } }> {
  const recorded: Recorded[] = [];
  const stats = { maxInFlight: 0 };
  let inFlight = 0;
  let n = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, inFlight);
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const bundle = JSON.parse(Buffer.concat(chunks).toString('utf8')) as TransactionBundle;
      recorded.push({ path: req.url ?? '', contentType: req.headers['content-type'], bundle });
      // Answer on a later tick so that concurrent requests overlap.
      setTimeout(() => {
        inFlight--;
        reply(bundle, n++, res);
      }, 2);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, baseUrl: `http://127.0.0.1:${port}/datastore/ds1/r4/`, recorded, stats };
}

const fastRetry = { baseDelayMs: 1, maxDelayMs: 5 };

describe('seedFhir against a fake FHIR server', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  it('posts the directory first, then one transaction per patient, with bounded concurrency and progress', async () => {
    const fake = await startFakeFhir(ok);
    server = fake.server;
    const progress: Array<[number, number, number]> = [];
    const counts = await seedFhir({
      fhirBaseUrl: fake.baseUrl,
      patients: 12,
      seed: 3,
      concurrency: 3,
      retry: fastRetry,
      onProgress: (done, total, resources) => progress.push([done, total, resources]),
    });
    expect(fake.recorded).toHaveLength(13);
    expect(
      fake.recorded.every((r) => r.path === '/datastore/ds1/r4/' && r.contentType === 'application/fhir+json'),
    ).toBe(true);
    expect(fake.recorded[0]!.bundle.entry.every((e) => /^(Practitioner|Organization)\//.test(e.request.url))).toBe(
      true,
    );
    expect(fake.stats.maxInFlight).toBeLessThanOrEqual(3);
    expect(fake.stats.maxInFlight).toBeGreaterThan(1);

    const expected = [...generatePopulation({ patients: 12, seed: 3 })];
    const posted = fake.recorded.slice(1).map((r) => r.bundle);
    const ids = (bundles: TransactionBundle[]) => bundles.map((b) => b.entry[0]!.resource.id).sort();
    expect(ids(posted)).toEqual(ids(expected));
    const total = expected.reduce((sum, b) => sum + b.entry.length, 0);
    expect(counts.patients).toBe(12);
    expect(counts.bundles).toBe(13);
    expect(counts.byType.Patient).toBe(12);
    expect(counts.byType.Practitioner).toBe(20);
    expect(counts.resources).toBe(total + 26);
    expect(counts.retries).toBe(0);
    expect(progress).toHaveLength(12);
    expect(progress.at(-1)).toEqual([12, 12, total + 26]);
  });

  it('retries a 503 (and a 429) with backoff, then succeeds', async () => {
    const fake = await startFakeFhir((bundle, n, res) => {
      if (n === 1) {
        res.writeHead(503, { 'content-type': 'application/fhir+json' });
        res.end(
          JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'transient' }] }),
        );
      } else if (n === 2) {
        res.writeHead(429, { 'retry-after': '0' });
        res.end();
      } else ok(bundle, n, res);
    });
    server = fake.server;
    const counts = await seedFhir({ fhirBaseUrl: fake.baseUrl, patients: 1, seed: 3, retry: fastRetry });
    expect(counts.retries).toBe(2);
    expect(counts.patients).toBe(1);
    expect(fake.recorded).toHaveLength(4);
    // The retried bundle is byte-for-byte the same request.
    expect(JSON.stringify(fake.recorded[3]!.bundle)).toBe(JSON.stringify(fake.recorded[1]!.bundle));
  });

  it('fails fast on a 400 with the OperationOutcome diagnostics and no patient data in the message', async () => {
    const fake = await startFakeFhir((bundle, n, res) => {
      if (bundle.entry.some((e) => e.resource.resourceType === 'Patient')) {
        res.writeHead(400, { 'content-type': 'application/fhir+json' });
        res.end(
          JSON.stringify({
            resourceType: 'OperationOutcome',
            issue: [
              {
                severity: 'error',
                code: 'invalid',
                expression: ['Bundle.entry[3].resource.valueQuantity'],
                diagnostics: 'Unknown UCUM unit',
              },
            ],
          }),
        );
      } else ok(bundle, n, res);
    });
    server = fake.server;
    const [first] = [...generatePopulation({ patients: 1, seed: 3 })];
    const patient = first!.entry[0]!.resource as unknown as {
      name: Array<{ family: string; given: string[] }>;
      birthDate: string;
    };

    const error = await seedFhir({ fhirBaseUrl: fake.baseUrl, patients: 1, seed: 3, retry: fastRetry }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(FhirSeedRequestError);
    const seedError = error as FhirSeedRequestError;
    expect(seedError.status).toBe(400);
    expect(seedError.message).toContain('HTTP 400');
    expect(seedError.message).toContain('Unknown UCUM unit');
    expect(seedError.message).toContain('Bundle.entry[3].resource.valueQuantity');
    expect(seedError.message).toContain('p-000000');
    expect(seedError.message).not.toContain(patient.name[0]!.family);
    expect(seedError.message).not.toContain(patient.birthDate);
    // 4xx is not retried: directory + one patient attempt.
    expect(fake.recorded).toHaveLength(2);
  });

  it('gives up after the configured attempts on a persistent 5xx', async () => {
    const fake = await startFakeFhir((_bundle, _n, res) => {
      res.writeHead(500);
      res.end('oops');
    });
    server = fake.server;
    const error = await seedFhir({
      fhirBaseUrl: fake.baseUrl,
      patients: 1,
      seed: 3,
      retry: { ...fastRetry, attempts: 3 },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FhirSeedRequestError);
    expect((error as Error).message).toMatch(/directory \(HTTP 500, after 3 attempt/);
    expect(fake.recorded).toHaveLength(3);
  });

  it('reports a network failure clearly after retrying', async () => {
    const fake = await startFakeFhir(ok);
    const closedUrl = fake.baseUrl;
    await new Promise<void>((resolve) => fake.server.close(() => resolve()));
    const error = await seedFhir({
      fhirBaseUrl: closedUrl,
      patients: 1,
      seed: 3,
      retry: { ...fastRetry, attempts: 2 },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FhirSeedRequestError);
    expect((error as Error).message).toMatch(/network error, after 2 attempt/);
  });
});
