import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  checkExportStep,
  recheckDelaySeconds,
  startExportStep,
  type CheckPolicy,
  type ExportStepDeps,
} from '../../../src/fhir-export/export-steps.js';
import { ExportStartError, TransientExportError } from '../../../src/fhir-export/errors.js';
import { locateExportUrl } from '../../../src/fhir-export/locate.js';
import type {
  CheckExportMessage,
  ExportJobDescription,
  ExportJobRef,
  FhirExportSource,
} from '../../../src/fhir-export/types.js';
import { DirectoryObjectStore } from '../../../src/local/object-store/directory-object-store.js';

const policy: CheckPolicy = {
  initialCheckDelaySeconds: 30,
  maxCheckDelaySeconds: 300,
  backoffMultiplier: 2,
  maxWaitSeconds: 3600,
  maxDescribeErrors: 2,
  completedWithErrors: 'fail',
  manifestBucket: 'exports',
  manifestPrefix: 'manifests/',
};
const NOW = new Date('2024-08-01T10:00:00Z');

function harness(describeExport: () => Promise<ExportJobDescription>, overrides: Partial<CheckPolicy> = {}) {
  const calls: string[] = [];
  const sent: Array<{ message: CheckExportMessage; delay: number }> = [];
  const cancelled: string[] = [];
  const source: FhirExportSource = {
    startExport: async ({ runId }) => ({ jobId: `job-of-${runId}`, statusUrl: `https://h/r4/export/job-of-${runId}` }),
    describeExport,
    locate: locateExportUrl,
    cancelExport: async (job) => void cancelled.push(job.jobId),
  };
  return {
    calls,
    sent,
    cancelled,
    deps: (store: DirectoryObjectStore): ExportStepDeps => ({
      source,
      manifestStore: store,
      policy: { ...policy, ...overrides },
      clock: { now: () => NOW },
      recheckQueue: { send: async (message, delay) => void sent.push({ message, delay }) },
      callbacks: {
        success: async (token, output) => void calls.push(`success:${token}:${JSON.stringify(output)}`),
        failure: async (token, error, cause) => void calls.push(`failure:${token}:${error}:${cause}`),
        heartbeat: async (token) => void calls.push(`heartbeat:${token}`),
      },
    }),
  };
}

const check = (extra: Partial<CheckExportMessage> = {}): CheckExportMessage => ({
  taskToken: 'tok',
  runId: 'run-1',
  jobId: 'j1',
  statusUrl: 'https://h/r4/export/j1',
  attempt: 0,
  firstCheckAt: '2024-08-01T09:59:00Z',
  ...extra,
});

const manifest = {
  transactionTime: '2024-08-01T09:58:00Z',
  output: [{ type: 'Patient', url: 's3://exp/p/ds-FHIR_EXPORT-j1/Patient/Patient-1.ndjson', count: 4 }],
  deleted: [{ type: 'Bundle', url: 's3://exp/p/ds-FHIR_EXPORT-j1/_deleted/Bundle-1.ndjson' }],
  error: [] as Array<{ type: string; url: string; count?: number }>,
};

describe('start/check export steps', () => {
  let dir: string;
  let store: DirectoryObjectStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'steps-'));
    store = new DirectoryObjectStore(dir);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('start: starts the job and queues the first check with the initial delay', async () => {
    const h = harness(async () => ({ status: 'IN_PROGRESS' }));
    const outcome = await startExportStep(
      { taskToken: 'tok', runId: 'run-1', since: null, executionArn: 'arn:x' },
      h.deps(store),
    );
    expect(outcome).toEqual({ action: 'requeued', delaySeconds: 30 });
    expect(h.sent).toEqual([
      {
        message: {
          taskToken: 'tok',
          runId: 'run-1',
          jobId: 'job-of-run-1',
          statusUrl: 'https://h/r4/export/job-of-run-1',
          attempt: 0,
          firstCheckAt: NOW.toISOString(),
        },
        delay: 30,
      },
    ]);
    expect(h.calls).toEqual([]);
  });

  it('start: any error becomes SendTaskFailure with an error name and cause', async () => {
    const h = harness(async () => ({ status: 'IN_PROGRESS' }));
    const deps = h.deps(store);
    deps.source = {
      ...deps.source,
      startExport: async () => Promise.reject(new ExportStartError('$export kick-off answered HTTP 403: denied')),
    };
    await startExportStep({ taskToken: 'tok', runId: 'run-1', since: null, executionArn: 'arn:x' }, deps);
    deps.source = { ...deps.source, startExport: async () => Promise.reject(new TypeError('fetch failed')) };
    await startExportStep({ taskToken: 'tok', runId: 'run-1', since: null, executionArn: 'arn:x' }, deps);
    deps.recheckQueue = { send: async () => Promise.reject(new Error('queue down')) };
    deps.source = { ...deps.source, startExport: async () => ({ jobId: 'j' }) };
    await startExportStep({ taskToken: 'tok', runId: 'run-1', since: null, executionArn: 'arn:x' }, deps);
    expect(h.calls).toEqual([
      'failure:tok:Export.StartFailed:$export kick-off answered HTTP 403: denied',
      'failure:tok:TypeError:fetch failed',
      'failure:tok:Export.StartFailed:queue down',
    ]);
  });

  it('start: a message without a usable shape fails the task when it has a token', async () => {
    const h = harness(async () => ({ status: 'IN_PROGRESS' }));
    await startExportStep({ taskToken: 'tok', runId: 'r' }, h.deps(store));
    expect(h.calls[0]).toMatch(/^failure:tok:Export.InvalidMessage:invalid message: since/);
    await expect(startExportStep({ nothing: true }, h.deps(store))).rejects.toThrow(/invalid message/);
  });

  it('check: running -> heartbeat and requeue with backoff, honouring a longer Retry-After', async () => {
    const h = harness(async () => ({ status: 'QUEUED', retryAfterSeconds: 200 }));
    expect(await checkExportStep(check({ attempt: 1 }), h.deps(store))).toEqual({
      action: 'requeued',
      delaySeconds: 200,
      status: 'QUEUED',
    });
    expect(h.calls).toEqual(['heartbeat:tok']);
    expect(h.sent[0]).toMatchObject({ message: { attempt: 2, describeErrors: 0 }, delay: 200 });
    expect(recheckDelaySeconds(2, undefined, policy)).toBe(120);
    expect(recheckDelaySeconds(10, undefined, policy)).toBe(300);
    expect(recheckDelaySeconds(0, 5000, policy)).toBe(300); // Retry-After capped below the heartbeat
  });

  it('check: COMPLETED -> manifest array written, SendTaskSuccess with bucket/key/transactionTime/jobId', async () => {
    const h = harness(async () => ({ status: 'COMPLETED', manifest }));
    const outcome = await checkExportStep(check(), h.deps(store));
    expect(outcome.action).toBe('succeeded');
    const key = 'manifests/run-1/j1/manifest.json';
    expect(JSON.parse(Buffer.from((await store.get(key))!).toString())).toEqual([
      { bucket: 'exp', key: 'p/ds-FHIR_EXPORT-j1/Patient/Patient-1.ndjson', type: 'Patient', kind: 'output', count: 4 },
      { bucket: 'exp', key: 'p/ds-FHIR_EXPORT-j1/_deleted/Bundle-1.ndjson', type: 'Bundle', kind: 'deleted' },
    ]);
    expect(h.calls).toEqual([
      `success:tok:${JSON.stringify({ bucket: 'exports', manifestKey: key, transactionTime: manifest.transactionTime, jobId: 'j1', exportErrors: [] })}`,
    ]);
  });

  it('check: COMPLETED_WITH_ERRORS -> fail policy fails; continue policy succeeds with the errors recorded', async () => {
    const withErrors = {
      ...manifest,
      error: [{ type: 'OperationOutcome', url: 's3://exp/p/err/OperationOutcome-1.ndjson', count: 3 }],
    };
    const failing = harness(async () => ({ status: 'COMPLETED_WITH_ERRORS', manifest: withErrors }));
    await checkExportStep(check(), failing.deps(store));
    expect(failing.calls).toEqual([
      'failure:tok:Export.CompletedWithErrors:export job j1 completed with 1 error file(s) (3 errors)',
    ]);

    const continuing = harness(async () => ({ status: 'COMPLETED_WITH_ERRORS', manifest: withErrors }), {
      completedWithErrors: 'continue',
    });
    const outcome = await checkExportStep(check(), continuing.deps(store));
    expect(outcome.action === 'succeeded' && outcome.output.exportErrors).toEqual([
      { type: 'OperationOutcome', bucket: 'exp', key: 'p/err/OperationOutcome-1.ndjson', count: 3 },
    ]);
    // The error file is a Map item too, so process-file lands its OperationOutcome lines under _errors/fhir-export/.
    const key = 'manifests/run-1/j1/manifest.json';
    expect(JSON.parse(Buffer.from((await store.get(key))!).toString())).toContainEqual({
      bucket: 'exp',
      key: 'p/err/OperationOutcome-1.ndjson',
      type: 'OperationOutcome',
      kind: 'error',
      count: 3,
    });
  });

  it('check: FAILED and CANCEL_* -> SendTaskFailure with the source message', async () => {
    const failed = harness(async () => ({ status: 'FAILED', message: 'export status answered HTTP 500: disk full' }));
    await checkExportStep(check(), failed.deps(store));
    const cancelled = harness(async () => ({ status: 'CANCEL_COMPLETED' }));
    await checkExportStep(check(), cancelled.deps(store));
    expect([...failed.calls, ...cancelled.calls]).toEqual([
      'failure:tok:Export.JobFailed:export job j1 FAILED: export status answered HTTP 500: disk full',
      'failure:tok:Export.JobCancelled:export job j1 CANCEL_COMPLETED',
    ]);
  });

  it('check: past max wait -> Export.MaxWaitExceeded and the job is cancelled', async () => {
    const h = harness(async () => ({ status: 'IN_PROGRESS' }), { maxWaitSeconds: 30 });
    await checkExportStep(check(), h.deps(store));
    expect(h.calls).toEqual(['failure:tok:Export.MaxWaitExceeded:export job j1 still IN_PROGRESS after 60 s']);
    expect(h.cancelled).toEqual(['j1']);
  });

  it('check: transient status errors are retried a few times, then fail the task', async () => {
    const h = harness(async () => Promise.reject(new TransientExportError('export status answered HTTP 503')));
    expect((await checkExportStep(check(), h.deps(store))).action).toBe('requeued');
    expect(h.sent[0]!.message.describeErrors).toBe(1);
    await checkExportStep(check({ describeErrors: 2 }), h.deps(store));
    expect(h.calls).toEqual(['failure:tok:Export.StatusUnavailable:export status answered HTTP 503']);
  });

  it('check: a closed task (TaskTimedOut on heartbeat) drops the message and cancels the job', async () => {
    const h = harness(async () => ({ status: 'IN_PROGRESS' }));
    const deps = h.deps(store);
    deps.callbacks.heartbeat = async () =>
      Promise.reject(Object.assign(new Error('Task Timed Out'), { name: 'TaskTimedOut' }));
    expect(await checkExportStep(check(), deps)).toEqual({ action: 'dropped', reason: 'task closed (TaskTimedOut)' });
    expect(h.sent).toEqual([]);
    expect(h.cancelled).toEqual(['j1']);
  });

  it("cancel: the run ledger's {action:'cancel'} message cancels the job through the source, with no describe and no task callback", async () => {
    const described: string[] = [];
    const h = harness(async () => {
      described.push('describe');
      return { status: 'IN_PROGRESS' };
    });
    const deps = h.deps(store);
    const jobs: ExportJobRef[] = [];
    deps.source = { ...deps.source, cancelExport: async (job) => void jobs.push(job) };
    const outcome = await checkExportStep(
      { action: 'cancel', runId: 'run-1', jobId: 'j1', statusUrl: 'https://h/r4/export/j1' },
      deps,
    );
    expect(outcome).toEqual({ action: 'cancelled', runId: 'run-1', jobId: 'j1' });
    expect(jobs).toEqual([{ runId: 'run-1', jobId: 'j1', statusUrl: 'https://h/r4/export/j1' }]);
    expect(described).toEqual([]);
    expect(h.calls).toEqual([]);
    expect(h.sent).toEqual([]);
  });

  it('cancel: an invalid cancel message is dropped with a reason (no cancel, no task callback, even with a token)', async () => {
    const h = harness(async () => ({ status: 'IN_PROGRESS' }));
    const outcome = await checkExportStep({ action: 'cancel', runId: 'run-1', taskToken: 'tok' }, h.deps(store));
    expect(outcome).toMatchObject({ action: 'dropped' });
    expect((outcome as { reason: string }).reason).toMatch(/^invalid cancel message: jobId: /);
    expect(h.cancelled).toEqual([]);
    expect(h.calls).toEqual([]);
    expect(h.sent).toEqual([]);
  });

  it('cancel: a cancel that fails is done (dropped, not thrown, so never redelivered), logged with ids and error name only', async () => {
    const h = harness(async () => ({ status: 'IN_PROGRESS' }));
    const deps = h.deps(store);
    const logs: Array<[string, Record<string, unknown>]> = [];
    deps.log = (message, fields) => void logs.push([message, fields]);
    deps.source = {
      ...deps.source,
      cancelExport: async () => Promise.reject(new TransientExportError('DELETE https://h/r4/export/j1: Patient/p1')),
    };
    const outcome = await checkExportStep({ action: 'cancel', runId: 'run-1', jobId: 'j1' }, deps);
    expect(outcome).toEqual({ action: 'dropped', reason: 'cancel of job j1 failed (Export.StatusUnavailable)' });
    expect(logs).toEqual([
      ['export job cancel failed', { runId: 'run-1', jobId: 'j1', error: 'Export.StatusUnavailable' }],
    ]);
    expect(h.calls).toEqual([]);
  });
});
