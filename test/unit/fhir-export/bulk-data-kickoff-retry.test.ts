import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BulkDataExportSource } from '../../../src/fhir-export/bulk-data-export-source.js';
import { checkExportStep, startExportStep } from '../../../src/fhir-export/export-steps.js';
import { HealthLakeExportSource } from '../../../src/fhir-export/healthlake-export-source.js';
import { InMemoryJobRegistry } from '../../../src/fhir-export/job-registry.js';
import { DirectoryObjectStore } from '../../../src/local/object-store/directory-object-store.js';
import { recordingStepDeps } from './export-step-deps.js';
import { ScriptedHttpServer, accepted, closedPort, outcome, reply, type Handler } from './scripted-http-server.js';

const START = Date.parse('2024-09-09T10:00:00Z');
/** The step's own clock, fixed at START (the retry clock moves separately). */
const AT_START = { now: () => new Date(START) };

/** A clock that only moves when the code under test sleeps: retries are instant and their waits exact. */
function fakeTime() {
  let nowMs = START;
  const sleeps: number[] = [];
  return {
    sleeps,
    nowMs: () => nowMs,
    retry: {
      clock: { now: () => new Date(nowMs) },
      sleep: async (ms: number) => {
        sleeps.push(ms);
        nowMs += ms;
      },
      random: () => 0, // jitter at its floor: half the exponential delay
    },
  };
}

describe('Bulk Data kick-off and status retries against a throttling server', () => {
  let server: ScriptedHttpServer | undefined;
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kickoff-'));
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  const source = (time: ReturnType<typeof fakeTime>, registry = new InMemoryJobRegistry()) =>
    new BulkDataExportSource({
      fhirBaseUrl: `${server!.base}/fhir`,
      registry,
      exportBucket: 'exports',
      exportStore: new DirectoryObjectStore(dir),
      retry: time.retry,
    });

  it('retries 429 and 503 kick-offs, waiting what Retry-After says in each form (delta-seconds, HTTP-date, epoch s and ms), then records the job', async () => {
    const time = fakeTime();
    const at = (offsetMs: number) => time.nowMs() + offsetMs;
    const withRetryAfter =
      (status: number, value: () => string): Handler =>
      (req, res, base, body) =>
        reply(status, { 'retry-after': value() }, outcome('throttled', 'busy'))(req, res, base, body);
    server = await ScriptedHttpServer.start({
      'GET /fhir/$export': [
        withRetryAfter(429, () => '3'),
        withRetryAfter(503, () => new Date(at(7_000)).toUTCString()),
        withRetryAfter(503, () => String(Math.round(at(11_000) / 1000))),
        withRetryAfter(429, () => String(at(5_000))),
        accepted('/fhir/status/job-7'),
      ],
    });
    const registry = new InMemoryJobRegistry();
    const job = await source(time, registry).startExport({ runId: 'run-1', since: null });
    expect(job).toMatchObject({ jobId: 'job-7', statusUrl: `${server.base}/fhir/status/job-7` });
    expect(await registry.findJob('run-1')).toMatchObject({ jobId: 'job-7' });
    expect(time.sleeps).toEqual([3_000, 7_000, 11_000, 5_000]);
    expect(server.requests('GET /fhir/$export')).toHaveLength(5);
  });

  it('is bounded: a Retry-After beyond the cap waits at most 15 s, and no retry starts past 45 s in all', async () => {
    const time = fakeTime();
    server = await ScriptedHttpServer.start({ 'GET /fhir/$export': [reply(503, { 'retry-after': '3600' })] });
    await expect(source(time).startExport({ runId: 'run-1', since: null })).rejects.toMatchObject({
      message: expect.stringMatching(/answered HTTP 503 \(gave up after 4 attempts\)$/),
    });
    expect(time.sleeps).toEqual([15_000, 15_000, 15_000]);
  });

  it('a kick-off that keeps failing fails the run with the URL, the server reason and how often it was tried', async () => {
    const time = fakeTime();
    server = await ScriptedHttpServer.start({
      'GET /fhir/$export': [reply(503, {}, outcome('transient', 'database restarting'))],
    });
    const failures: string[] = [];
    const deps = recordingStepDeps(source(time), failures, AT_START);
    await startExportStep({ taskToken: 'tok', runId: 'run-1', since: null, executionArn: 'arn:x' }, deps);
    expect(failures).toEqual([
      `Export.StartFailed|export kick-off GET ${server.base}/fhir/$export answered HTTP 503: database restarting (gave up after 5 attempts)`,
    ]);
    expect(server.requests('GET /fhir/$export')).toHaveLength(5);
  });

  it('a refusal (4xx) is not retried and carries the OperationOutcome text', async () => {
    const time = fakeTime();
    server = await ScriptedHttpServer.start({
      'GET /fhir/$export': [reply(400, {}, outcome('invalid', 'The "_type" parameter contains unknown types: Foo'))],
    });
    await expect(source(time).startExport({ runId: 'run-1', since: null })).rejects.toMatchObject({
      name: 'Export.StartFailed',
      message: `export kick-off GET ${server.base}/fhir/$export answered HTTP 400: The "_type" parameter contains unknown types: Foo`,
    });
    expect(server.requests('GET /fhir/$export')).toHaveLength(1);
    expect(time.sleeps).toEqual([]);
  });

  it('a network error names the request and the cause (ECONNREFUSED), not only "fetch failed"', async () => {
    const time = fakeTime();
    const port = await closedPort();
    const closed = new BulkDataExportSource({
      fhirBaseUrl: `http://127.0.0.1:${port}/fhir`,
      registry: new InMemoryJobRegistry(),
      exportBucket: 'exports',
      exportStore: new DirectoryObjectStore(dir),
      retry: { ...time.retry, maxAttempts: 2 },
    });
    await expect(closed.startExport({ runId: 'run-1', since: null })).rejects.toMatchObject({
      message: `export kick-off GET http://127.0.0.1:${port}/fhir/$export failed: ECONNREFUSED (connection refused) (gave up after 2 attempts)`,
    });
    expect(time.sleeps).toEqual([500]);
  });

  it('HealthLake kick-offs (POST, same protocol) get the same retries', async () => {
    const time = fakeTime();
    server = await ScriptedHttpServer.start({
      'POST /datastore/ds/r4/$export': [reply(429, { 'retry-after': '2' }), accepted('/datastore/ds/r4/export/hl-1')],
    });
    const healthLake = new HealthLakeExportSource({
      fhirBaseUrl: `${server.base}/datastore/ds/r4`,
      fetch: (url, init) => fetch(url, init),
      outputS3Uri: 's3://exports/fhir',
      registry: new InMemoryJobRegistry(),
      retry: time.retry,
    });
    expect(await healthLake.startExport({ runId: 'run-1', since: null })).toMatchObject({ jobId: 'hl-1' });
    expect(time.sleeps).toEqual([2_000]);
    expect(JSON.parse(server.requests('POST /datastore/ds/r4/$export')[1]!.body)).toMatchObject({ JobName: 'run-1' });
  });

  it('a status check answered 503/429 waits what Retry-After says (delta or epoch) before the next check', async () => {
    const time = fakeTime();
    server = await ScriptedHttpServer.start({
      'GET /fhir/status/job-1': [
        reply(503, { 'retry-after': '45' }),
        (req, res, base, body) =>
          reply(429, { 'retry-after': String(Math.round((time.nowMs() + 60_000) / 1000)) })(req, res, base, body),
      ],
    });
    const deps = recordingStepDeps(source(time), [], AT_START);
    const message = {
      taskToken: 'tok',
      runId: 'run-1',
      jobId: 'job-1',
      statusUrl: `${server.base}/fhir/status/job-1`,
      attempt: 0,
      firstCheckAt: new Date(START).toISOString(),
    };
    expect(await checkExportStep(message, deps)).toEqual({ action: 'requeued', delaySeconds: 45 });
    expect(await checkExportStep({ ...message, attempt: 1, describeErrors: 1 }, deps)).toEqual({
      action: 'requeued',
      delaySeconds: 60,
    });
  });
});
