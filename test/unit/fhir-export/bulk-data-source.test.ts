import { generateKeyPairSync, verify } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BulkDataExportSource } from '../../../src/fhir-export/bulk-data-export-source.js';
import { InMemoryJobRegistry } from '../../../src/fhir-export/job-registry.js';
import { SmartBackendAuth } from '../../../src/fhir-export/smart-backend-auth.js';
import { DirectoryObjectStore } from '../../../src/local/object-store/directory-object-store.js';

const decode = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;

describe('BulkDataExportSource + SmartBackendAuth against a Bulk Data v2 server', () => {
  let server: Server;
  let base: string;
  let dir: string;
  const log: string[] = [];
  const assertions: string[] = [];
  let polls = 0;
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bulk-'));
    log.length = 0;
    assertions.length = 0;
    polls = 0;
    server = createServer((req, res) => {
      const url = new URL(req.url!, base);
      log.push(`${req.method} ${url.pathname}${url.search} auth=${req.headers.authorization ?? '-'}`);
      if (url.pathname === '/fhir/.well-known/smart-configuration') {
        res.end(JSON.stringify({ token_endpoint: `${base}/token` }));
        return;
      }
      if (url.pathname === '/token') {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          const form = new URLSearchParams(body);
          assertions.push(form.get('client_assertion')!);
          const [h, p, s] = form.get('client_assertion')!.split('.');
          const ok = verify(
            'sha384',
            Buffer.from(`${h}.${p}`),
            { key: publicKey, dsaEncoding: 'ieee-p1363' },
            Buffer.from(s!, 'base64url'),
          );
          res.statusCode = ok && form.get('grant_type') === 'client_credentials' ? 200 : 401;
          res.end(
            JSON.stringify(
              ok ? { access_token: 'tok-1', expires_in: 300, token_type: 'bearer' } : { error: 'invalid_client' },
            ),
          );
        });
        return;
      }
      if (req.headers.authorization !== 'Bearer tok-1') {
        res.statusCode = 401;
        res.end();
        return;
      }
      if (url.pathname === '/fhir/$export') {
        res.writeHead(202, { 'content-location': `${base}/fhir/status/job-1` }).end();
        return;
      }
      if (url.pathname === '/fhir/status/job-1') {
        polls += 1;
        if (polls === 1) {
          res.writeHead(202, { 'x-progress': 'half', 'retry-after': '7' }).end();
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            transactionTime: '2024-09-09T09:09:09Z',
            request: `${base}/fhir/$export`,
            requiresAccessToken: true,
            output: [{ type: 'Patient', url: `${base}/files/patients.ndjson`, count: 2 }],
            deleted: [{ type: 'Bundle', url: `${base}/files/deleted.ndjson` }],
            error: [],
          }),
        );
        return;
      }
      if (url.pathname === '/files/patients.ndjson') {
        res.write('{"resourceType":"Patient","id":"a"}\n');
        res.end('{"resourceType":"Patient","id":"b"}\n');
        return;
      }
      if (url.pathname === '/files/deleted.ndjson') {
        res.end(
          '{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"DELETE","url":"Patient/z"}}]}\n',
        );
        return;
      }
      res.statusCode = 404;
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('authenticates with an ES384 client assertion (cached token), polls, and streams outputs into the export bucket', async () => {
    const auth = new SmartBackendAuth({
      fhirBaseUrl: `${base}/fhir`,
      clientId: 'tributary',
      privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      algorithm: 'ES384',
      keyId: 'k1',
    });
    const bucket = new DirectoryObjectStore(dir);
    const registry = new InMemoryJobRegistry();
    const source = new BulkDataExportSource({
      fhirBaseUrl: `${base}/fhir`,
      fetch: auth.wrap((url, init) => fetch(url, init)),
      registry,
      exportBucket: 'exports',
      exportStore: bucket,
      types: ['Patient'],
    });

    const job = await source.startExport({ runId: 'run-1', since: '2024-09-01T00:00:00Z' });
    expect(job).toMatchObject({ jobId: 'job-1', statusUrl: `${base}/fhir/status/job-1` });
    expect(await source.startExport({ runId: 'run-1', since: '2024-09-01T00:00:00Z' })).toEqual(job); // idempotent on runId
    expect(await source.describeExport(job)).toEqual({ status: 'IN_PROGRESS', retryAfterSeconds: 7, progress: 'half' });
    const done = await source.describeExport(job);
    expect(done.status).toBe('COMPLETED');
    const output = done.manifest!.output[0]!;
    expect(output.url).toMatch(
      /^s3:\/\/exports\/bulk-export\/run-1\/job-1\/output\/Patient\/Patient-1-[0-9a-f]{8}\.ndjson$/,
    );
    const { key } = source.locate(output.url);
    expect(Buffer.from((await bucket.get(key))!).toString()).toBe(
      '{"resourceType":"Patient","id":"a"}\n{"resourceType":"Patient","id":"b"}\n',
    );
    expect(done.manifest!.deleted[0]!.url).toContain('/deleted/Bundle/');

    const kickoff = log.find((l) => l.startsWith('GET /fhir/$export'))!;
    expect(kickoff).toContain('_since=2024-09-01T00%3A00%3A00Z&_type=Patient');
    expect(log.filter((l) => l.startsWith('POST /token'))).toHaveLength(1); // cached
    expect(log.filter((l) => l.includes('/files/')).every((l) => l.endsWith('auth=Bearer tok-1'))).toBe(true);
    const [header, claims] = assertions[0]!.split('.');
    expect(decode(header!)).toEqual({ alg: 'ES384', typ: 'JWT', kid: 'k1' });
    expect(decode(claims!)).toMatchObject({ iss: 'tributary', sub: 'tributary', aud: `${base}/token` });
  });

  it('RS384 assertions verify with the RSA public key; a refused client gets a named error', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const auth = new SmartBackendAuth({
      tokenUrl: `${base}/token`,
      clientId: 'c',
      privateKeyPem: rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      algorithm: 'RS384',
    });
    const jwt = auth.clientAssertion('https://aud');
    const [h, p, s] = jwt.split('.');
    expect(decode(h!).alg).toBe('RS384');
    expect(verify('sha384', Buffer.from(`${h}.${p}`), rsa.publicKey, Buffer.from(s!, 'base64url'))).toBe(true);
    await expect(auth.accessToken()).rejects.toMatchObject({ name: 'Export.AuthFailed' }); // server only trusts the EC key
  });
});
