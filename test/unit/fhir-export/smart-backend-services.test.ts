import { createHash, createPublicKey, generateKeyPairSync, verify, type KeyObject } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { BulkDataExportSource } from '../../../src/fhir-export/bulk-data-export-source.js';
import { startExportStep } from '../../../src/fhir-export/export-steps.js';
import { InMemoryJobRegistry } from '../../../src/fhir-export/job-registry.js';
import { jwkThumbprint } from '../../../src/fhir-export/jwk-thumbprint.js';
import { SmartBackendAuth } from '../../../src/fhir-export/smart-backend-auth.js';
import { DirectoryObjectStore } from '../../../src/local/object-store/directory-object-store.js';
import { recordingStepDeps } from './export-step-deps.js';
import { ScriptedHttpServer, accepted, reply, type Handler } from './scripted-http-server.js';

/** RFC 7638 §3.1: the example RSA key and its SHA-256 thumbprint. */
const RFC_7638_KEY = {
  kty: 'RSA',
  n:
    '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknj' +
    'hMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6q' +
    'MQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
  e: 'AQAB',
  alg: 'RS256',
  kid: '2011-04-29',
};
const RFC_7638_THUMBPRINT = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs';

const decode = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
const pem = (key: KeyObject) => key.export({ type: 'pkcs8', format: 'pem' }).toString();

/**
 * A token endpoint that behaves like the SMART Bulk Data reference server: the assertion must name a `kid` found in
 * the client's registered JWKS and verify with that key; refusals are OAuth errors with an `error_description`.
 */
function referenceTokenEndpoint(jwks: Record<string, KeyObject>): Handler {
  return (_req, res, _base, body) => {
    const refuse = (error: string, description: string) =>
      reply(400, { 'content-type': 'application/json' }, { error, error_description: description })(
        _req,
        res,
        _base,
        body,
      );
    const assertion = new URLSearchParams(body).get('client_assertion') ?? '';
    const [h, p, s] = assertion.split('.');
    const header = decode(h!);
    if (typeof header.kid !== 'string')
      return refuse('invalid_request', 'Missing "kid" header in the client assertion');
    const key = jwks[header.kid];
    if (!key) return refuse('invalid_client', `No public key found for kid "${header.kid}"`);
    const ok = verify(
      'sha384',
      Buffer.from(`${h}.${p}`),
      { key, dsaEncoding: 'ieee-p1363' },
      Buffer.from(s!, 'base64url'),
    );
    if (!ok) return refuse('invalid_client', 'Unable to verify the token with any of the public keys');
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ access_token: 'tok-1', token_type: 'bearer', expires_in: 300 }));
  };
}

describe('SMART Backend Services against a server that requires kid', () => {
  let server: ScriptedHttpServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  // The thumbprint the server registered, computed here from RFC 7638 §3.2 directly.
  const jwk = ec.publicKey.export({ format: 'jwk' });
  const registeredKid = createHash('sha256')
    .update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }))
    .digest('base64url');

  it('computes the RFC 7638 §3.1 example thumbprint', () => {
    expect(jwkThumbprint(createPublicKey({ key: RFC_7638_KEY, format: 'jwk' }))).toBe(RFC_7638_THUMBPRINT);
    expect(jwkThumbprint(RFC_7638_KEY)).toBe(RFC_7638_THUMBPRINT); // optional members (alg, kid) do not count
    expect(jwkThumbprint(pem(ec.privateKey))).toBe(registeredKid); // a private key's public half
  });

  it('without keyId the assertion carries kid = the key thumbprint, and the export starts', async () => {
    server = await ScriptedHttpServer.start({
      'POST /token': [referenceTokenEndpoint({ [registeredKid]: ec.publicKey })],
      'GET /fhir/$export': [accepted('/fhir/status/1')],
    });
    const auth = new SmartBackendAuth({
      tokenUrl: `${server.base}/token`,
      clientId: 'tributary',
      privateKeyPem: pem(ec.privateKey),
      algorithm: 'ES384',
    });
    expect(decode(auth.clientAssertion('https://aud').split('.')[0]!)).toEqual({
      alg: 'ES384',
      typ: 'JWT',
      kid: registeredKid,
    });
    const source = new BulkDataExportSource({
      fhirBaseUrl: `${server.base}/fhir`,
      fetch: auth.wrap((url, init) => fetch(url, init)),
      registry: new InMemoryJobRegistry(),
      exportBucket: 'exports',
      exportStore: new DirectoryObjectStore('/nonexistent-unused'),
    });
    expect(await source.startExport({ runId: 'run-1', since: null })).toMatchObject({ jobId: '1' });
    expect(server.requests('GET /fhir/$export')[0]!.authorization).toBe('Bearer tok-1');
  });

  it('smart.keyId overrides the thumbprint', () => {
    const auth = new SmartBackendAuth({
      tokenUrl: 'https://auth.example/token',
      clientId: 'c',
      privateKeyPem: pem(ec.privateKey),
      algorithm: 'ES384',
      keyId: 'my-key-2024',
    });
    expect(decode(auth.clientAssertion('https://aud').split('.')[0]!).kid).toBe('my-key-2024');
  });

  it("a refused client sees the server's error_description, and the run fails Export.AuthFailed without retrying", async () => {
    server = await ScriptedHttpServer.start({ 'POST /token': [referenceTokenEndpoint({})] });
    const auth = new SmartBackendAuth({
      tokenUrl: `${server.base}/token`,
      clientId: 'tributary',
      privateKeyPem: pem(ec.privateKey),
      algorithm: 'ES384',
    });
    const source = new BulkDataExportSource({
      fhirBaseUrl: `${server.base}/fhir`,
      fetch: auth.wrap((url, init) => fetch(url, init)),
      registry: new InMemoryJobRegistry(),
      exportBucket: 'exports',
      exportStore: new DirectoryObjectStore('/nonexistent-unused'),
    });
    const failures: string[] = [];
    await startExportStep(
      { taskToken: 't', runId: 'run-1', since: null, executionArn: 'arn:x' },
      recordingStepDeps(source, failures),
    );
    expect(failures).toEqual([
      `Export.AuthFailed|SMART token endpoint POST ${server.base}/token answered HTTP 400: invalid_client: No public key found for kid "${registeredKid}"`,
    ]);
    expect(server.requests('POST /token')).toHaveLength(1);
  });

  it('a token endpoint answering with an OperationOutcome has its text passed on', async () => {
    server = await ScriptedHttpServer.start({
      'POST /token': [
        reply(
          401,
          {},
          {
            resourceType: 'OperationOutcome',
            issue: [{ severity: 'error', code: 'security', diagnostics: 'Invalid token audience' }],
          },
        ),
      ],
    });
    const auth = new SmartBackendAuth({
      tokenUrl: `${server.base}/token`,
      clientId: 'c',
      privateKeyPem: pem(ec.privateKey),
      algorithm: 'ES384',
    });
    await expect(auth.accessToken()).rejects.toMatchObject({
      name: 'Export.AuthFailed',
      message: expect.stringMatching(/answered HTTP 401: Invalid token audience$/),
    });
  });
});
