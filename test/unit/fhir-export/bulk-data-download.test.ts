import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BulkDataExportSource } from '../../../src/fhir-export/bulk-data-export-source.js';
import { checkExportStep } from '../../../src/fhir-export/export-steps.js';
import { InMemoryJobRegistry } from '../../../src/fhir-export/job-registry.js';
import type { CheckExportMessage } from '../../../src/fhir-export/types.js';
import type { FetchLike } from '../../../src/fhir-export/bulk-data-protocol.js';
import { DirectoryObjectStore } from '../../../src/local/object-store/directory-object-store.js';
import { recordingStepDeps } from './export-step-deps.js';
import { ScriptedHttpServer, completed, outcome, reply, type Handler } from './scripted-http-server.js';

/** What an authenticated fetch does: every request carries the client's Bearer token. */
const withToken: FetchLike = (url, init = {}) => {
  const headers = new Headers(init.headers);
  headers.set('authorization', 'Bearer tok-1');
  return fetch(url, { ...init, headers });
};

/** A pre-signed URL (S3-style): the signature is the credential, and a second one (a Bearer token) is refused. */
const presigned: Handler = (req, res) => {
  if (req.headers.authorization) {
    res.writeHead(400, { 'content-type': 'application/xml' });
    res.end('<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed</Message></Error>');
    return;
  }
  res.end('{"resourceType":"Patient","id":"a"}\n');
};

/** A file behind the server's own authorization: needs the Bearer token. */
const protectedFile: Handler = (req, res) => {
  if (req.headers.authorization !== 'Bearer tok-1') {
    reply(401, {}, outcome('security', 'missing token'))(req, res, '', '');
    return;
  }
  res.end('{"resourceType":"Patient","id":"b"}\n');
};

describe('Bulk Data downloads', () => {
  let server: ScriptedHttpServer | undefined;
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'download-'));
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  const sourceOf = () =>
    new BulkDataExportSource({
      fhirBaseUrl: `${server!.base}/fhir`,
      fetch: withToken,
      registry: new InMemoryJobRegistry(),
      exportBucket: 'exports',
      exportStore: new DirectoryObjectStore(dir),
      retry: { sleep: async () => undefined, maxAttempts: 2 },
    });
  const job = () => ({ jobId: 'job-1', runId: 'run-1', statusUrl: `${server!.base}/fhir/status/job-1` });
  /** The check-export message for `job()`, first checked now. */
  const checkMessage = (fields: Pick<CheckExportMessage, 'attempt' | 'describeErrors'>): CheckExportMessage => ({
    taskToken: 't',
    ...job(),
    firstCheckAt: new Date().toISOString(),
    ...fields,
  });

  it('sends the Bearer token to output URLs only when the manifest says requiresAccessToken: true', async () => {
    server = await ScriptedHttpServer.start({
      'GET /fhir/status/job-1': [
        completed({
          requiresAccessToken: false,
          output: [{ type: 'Patient', path: '/s3/p.ndjson?X-Amz-Signature=abc' }],
        }),
        completed({ requiresAccessToken: true, output: [{ type: 'Patient', path: '/files/p.ndjson' }] }),
      ],
      'GET /s3/p.ndjson': [presigned],
      'GET /files/p.ndjson': [protectedFile],
    });
    const source = sourceOf();
    expect((await source.describeExport(job())).status).toBe('COMPLETED');
    expect(server.requests('GET /s3/p.ndjson').map((r) => r.authorization)).toEqual([undefined]);
    expect((await source.describeExport(job())).status).toBe('COMPLETED');
    expect(server.requests('GET /files/p.ndjson').map((r) => r.authorization)).toEqual(['Bearer tok-1']);
    // The status requests themselves always carry it.
    expect(server.requests('GET /fhir/status/job-1').every((r) => r.authorization === 'Bearer tok-1')).toBe(true);
  });

  it("a refused download fails the run as Export.DownloadFailed with the server's OperationOutcome, and cancels the job", async () => {
    server = await ScriptedHttpServer.start({
      'GET /fhir/status/job-1': [
        completed({
          requiresAccessToken: false,
          output: [{ type: 'Patient', path: '/s3/p.ndjson?X-Amz-Signature=secret' }],
        }),
      ],
      'GET /s3/p.ndjson': [reply(403, {}, outcome('forbidden', 'Link expired'))],
      'DELETE /fhir/status/job-1': [reply(202)],
    });
    const failures: string[] = [];
    const outcomeOfCheck = await checkExportStep(checkMessage({ attempt: 0 }), recordingStepDeps(sourceOf(), failures));
    expect(outcomeOfCheck).toMatchObject({ action: 'failed', error: 'Export.DownloadFailed' });
    expect(failures).toEqual([
      `Export.DownloadFailed|download GET ${server.base}/s3/p.ndjson?… answered HTTP 403: Link expired`,
    ]);
    expect(failures.join()).not.toContain('secret'); // signatures never reach messages
    expect(server.requests('DELETE /fhir/status/job-1')).toHaveLength(1);
  });

  it('a download that stays unavailable (503) is retried, then fails as Export.DownloadFailed and cancels the job', async () => {
    server = await ScriptedHttpServer.start({
      'GET /fhir/status/job-1': [
        completed({ requiresAccessToken: false, output: [{ type: 'Patient', path: '/s3/p.ndjson' }] }),
      ],
      'GET /s3/p.ndjson': [reply(503, { 'retry-after': '1' }, outcome('transient', 'SlowDown'))],
      'DELETE /fhir/status/job-1': [reply(202)],
    });
    const failures: string[] = [];
    await checkExportStep(checkMessage({ attempt: 3, describeErrors: 5 }), recordingStepDeps(sourceOf(), failures));
    expect(failures).toEqual([
      `Export.DownloadFailed|download GET ${server.base}/s3/p.ndjson answered HTTP 503: SlowDown (gave up after 2 attempts)`,
    ]);
    expect(server.requests('GET /s3/p.ndjson')).toHaveLength(2);
    expect(server.requests('DELETE /fhir/status/job-1')).toHaveLength(1);
  });

  it('a job the server reports FAILED is not cancelled again', async () => {
    server = await ScriptedHttpServer.start({
      'GET /fhir/status/job-1': [reply(500, {}, outcome('exception', 'export crashed'))],
      'DELETE /fhir/status/job-1': [reply(202)],
    });
    const failures: string[] = [];
    await checkExportStep(checkMessage({ attempt: 0 }), recordingStepDeps(sourceOf(), failures));
    expect(failures).toEqual([
      'Export.JobFailed|export job job-1 FAILED: export status answered HTTP 500: export crashed',
    ]);
    expect(server.requests('DELETE /fhir/status/job-1')).toHaveLength(0);
  });
});
