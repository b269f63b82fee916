import { describe, expect, it } from 'vitest';
import { InMemoryLedgerStore } from '../../../src/fhir-export/ledger-store.js';
import { handleLedgerRequest } from '../../../src/fhir-export/ledger-requests.js';
import { RunLedger } from '../../../src/fhir-export/run-ledger.js';
import type { ExecutionState } from '../../../src/fhir-export/execution-status.js';
import type { ExportJobRef, ProcessFileResult } from '../../../src/fhir-export/types.js';

const arn = (name: string) => `arn:aws:states:eu-west-2:1:execution:sm:${name}`;

function setup(options: { leaseSeconds?: number; cancelJob?: (job: ExportJobRef) => Promise<void> } = {}) {
  const states = new Map<string, ExecutionState | Error>();
  let now = new Date('2024-06-01T00:00:00Z');
  const ledger = new RunLedger({
    store: new InMemoryLedgerStore(),
    executions: {
      statusOf: async (a) => {
        const state = states.get(a) ?? 'UNKNOWN';
        if (state instanceof Error) throw state;
        return state;
      },
      describeOwner: async (a) => (a.endsWith(':r1') ? 'sync (pid 7 on h)' : undefined),
    },
    clock: { now: () => now },
    ...('leaseSeconds' in options ? { leaseSeconds: options.leaseSeconds } : { leaseSeconds: 3600 }),
    ...(options.cancelJob ? { cancelJob: options.cancelJob } : {}),
  });
  return { ledger, states, advance: (seconds: number) => (now = new Date(now.getTime() + seconds * 1000)) };
}

const result = (type: string, resources: number, extra: Partial<ProcessFileResult> = {}): ProcessFileResult => ({
  type,
  kind: 'output',
  key: `${type}.ndjson`,
  resources,
  deleted: 0,
  errors: 0,
  files: 1,
  ...extra,
});

describe('RunLedger', () => {
  it('first run needs no seeding: acquires with since=null and records RUNNING', async () => {
    const { ledger } = setup();
    expect(
      await ledger.acquire({ executionArn: arn('r1'), executionName: 'r1', startTime: '2024-06-01T00:00:00Z' }),
    ).toEqual({ acquired: true, runId: 'r1', since: null });
    expect((await ledger.getRun('r1'))!.status).toBe('RUNNING');
    expect((await ledger.lock())!.owner).toBe(arn('r1'));
  });

  it('a second execution is skipped while the owner runs; acquire is re-entrant for the owner', async () => {
    const { ledger, states } = setup();
    await ledger.acquire({ executionArn: arn('r1'), executionName: 'r1' });
    states.set(arn('r1'), 'RUNNING');
    const second = await ledger.acquire({ executionArn: arn('r2'), executionName: 'r2' });
    expect(second).toMatchObject({ acquired: false, runId: 'r2' });
    expect((await ledger.getRun('r2'))!.status).toBe('SKIPPED');
    expect((await ledger.acquire({ executionArn: arn('r1'), executionName: 'r1' })).acquired).toBe(true);
  });

  it('takes over from a dead owner (execution no longer RUNNING) and marks its run FAILED', async () => {
    const { ledger, states } = setup();
    await ledger.acquire({ executionArn: arn('r1'), executionName: 'r1' });
    states.set(arn('r1'), 'TIMED_OUT');
    expect((await ledger.acquire({ executionArn: arn('r2'), executionName: 'r2' })).acquired).toBe(true);
    expect(await ledger.getRun('r1')).toMatchObject({ status: 'FAILED', error: 'Ledger.LockRecovered' });
  });

  it('never takes over from an owner DescribeExecution says is RUNNING, even after its lease ran out', async () => {
    const { ledger, states, advance } = setup();
    await ledger.acquire({ executionArn: arn('r1'), executionName: 'r1' });
    states.set(arn('r1'), 'RUNNING');
    advance(3601);
    const second = await ledger.acquire({ executionArn: arn('r2'), executionName: 'r2' });
    expect(second).toMatchObject({
      acquired: false,
      heldBy: 'r1',
      reason: 'run r1 is running (owner sync (pid 7 on h))',
    });
    expect(await ledger.getRun('r2')).toMatchObject({
      status: 'SKIPPED',
      cause: 'run r1 is running (owner sync (pid 7 on h))',
    });
    expect((await ledger.lock())!.owner).toBe(arn('r1'));
  });

  it('takes over at once from a local owner whose process died (OWNER_DEAD), saying why', async () => {
    const { ledger, states } = setup();
    await ledger.acquire({ executionArn: arn('r1'), executionName: 'r1' });
    states.set(arn('r1'), 'OWNER_DEAD');
    const second = await ledger.acquire({ executionArn: arn('r2'), executionName: 'r2' });
    expect(second).toMatchObject({
      acquired: true,
      takenOver: { runId: 'r1', cause: 'owner process died (sync (pid 7 on h))' },
    });
    expect(await ledger.getRun('r1')).toMatchObject({ status: 'FAILED', error: 'Ledger.LockRecovered' });
    expect((await ledger.getRun('r2'))!.tookOverFrom).toEqual({
      runId: 'r1',
      cause: 'owner process died (sync (pid 7 on h))',
    });
  });

  it("when the owner's status cannot be read, only the lease frees the lock", async () => {
    const { ledger, states, advance } = setup({ leaseSeconds: 600 });
    await ledger.acquire({ executionArn: arn('r1'), executionName: 'r1' });
    states.set(arn('r1'), Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    advance(599);
    expect(await ledger.acquire({ executionArn: arn('r2'), executionName: 'r2' })).toMatchObject({
      acquired: false,
      heldBy: 'r1',
    });
    advance(2);
    expect(await ledger.acquire({ executionArn: arn('r3'), executionName: 'r3' })).toMatchObject({
      acquired: true,
      takenOver: { runId: 'r1', cause: 'lock lease expired and the owner status cannot be read' },
    });
  });

  it('the lease defaults to 600 s (twice the default heartbeat) and renew() extends it for its owner only', async () => {
    const { ledger, states, advance } = setup({ leaseSeconds: undefined });
    await ledger.acquire({ executionArn: arn('r1'), executionName: 'r1' });
    const first = (await ledger.lock())!.leaseUntil;
    expect(first - Date.parse('2024-06-01T00:00:00Z') / 1000).toBe(600);
    advance(400);
    expect(await ledger.renew(arn('r1'))).toBe(true);
    expect((await ledger.lock())!.leaseUntil).toBe(first + 400);
    expect(await ledger.renew(arn('r2'))).toBe(false);
    expect((await ledger.lock())!.leaseUntil).toBe(first + 400);
    // Renewed: an unreadable owner status does not free it at the old lease's end.
    states.set(arn('r1'), new Error('throttled'));
    advance(300);
    expect((await ledger.acquire({ executionArn: arn('r2'), executionName: 'r2' })).acquired).toBe(false);
  });

  it('complete: COMPLETED_WITH_ERRORS with errors per type when the export reported error files; the watermark advances', async () => {
    const { ledger } = setup();
    await ledger.acquire({ executionArn: arn('r1'), executionName: 'r1' });
    const out = await ledger.complete({
      runId: 'r1',
      executionArn: arn('r1'),
      transactionTime: '2024-06-01T00:00:05.123Z',
      jobId: 'j1',
      results: [result('Patient', 3), result('OperationOutcome', 0, { kind: 'error', errors: 2 })],
      exportErrors: [{ type: 'OperationOutcome', bucket: 'b', key: 'k', count: 2 }],
    });
    expect(out).toMatchObject({ status: 'COMPLETED_WITH_ERRORS', errors: { OperationOutcome: 2 } });
    expect(await ledger.getRun('r1')).toMatchObject({
      status: 'COMPLETED_WITH_ERRORS',
      counts: { Patient: { resources: 3, errors: 0 }, OperationOutcome: { errors: 2 } },
    });
    expect((await ledger.watermark())!.transactionTime).toBe('2024-06-01T00:00:05.123Z');
    expect(await ledger.lock()).toBeUndefined();
    // Idempotent: a retried CompleteRun answers the same.
    expect(
      await ledger.complete({
        runId: 'r1',
        executionArn: arn('r1'),
        transactionTime: '2024-06-01T00:00:05.123Z',
        jobId: 'j1',
        results: [],
      }),
    ).toMatchObject({ status: 'COMPLETED_WITH_ERRORS', errors: { OperationOutcome: 2 } });
  });

  it('complete: watermark = transactionTime, counts per type (tombstones by type), lock released; next since = watermark', async () => {
    const { ledger } = setup();
    await ledger.acquire({ executionArn: arn('r1'), executionName: 'r1' });
    const out = await ledger.complete({
      runId: 'r1',
      executionArn: arn('r1'),
      transactionTime: '2024-06-01T00:00:05.123Z',
      jobId: 'j1',
      results: [
        result('Patient', 3, { errors: 1 }),
        result('Patient', 2),
        result('Bundle', 0, { kind: 'deleted', deleted: 2, deletedByType: { Patient: 1, Observation: 1 } }),
      ],
    });
    // A rejected line is an error of the run too.
    expect(out).toMatchObject({ status: 'COMPLETED_WITH_ERRORS', errors: { Patient: 1 } });
    expect(out.counts).toEqual({
      Patient: { resources: 5, deleted: 1, errors: 1 },
      Observation: { resources: 0, deleted: 1, errors: 0 },
    }); // no empty `Bundle` entry for the deleted file
    expect(await ledger.lock()).toBeUndefined();
    expect((await ledger.watermark())!.transactionTime).toBe('2024-06-01T00:00:05.123Z');
    expect((await ledger.acquire({ executionArn: arn('r2'), executionName: 'r2' })).since).toBe(
      '2024-06-01T00:00:05.123Z',
    );
  });

  it('the watermark never moves backwards', async () => {
    const { ledger } = setup();
    await ledger.acquire({ executionArn: arn('r1'), executionName: 'r1' });
    await ledger.complete({
      runId: 'r1',
      executionArn: arn('r1'),
      transactionTime: '2024-06-02T00:00:00Z',
      jobId: 'j1',
      results: [],
    });
    await ledger.acquire({ executionArn: arn('r2'), executionName: 'r2' });
    await ledger.complete({
      runId: 'r2',
      executionArn: arn('r2'),
      transactionTime: '2024-06-01T00:00:00Z',
      jobId: 'j2',
      results: [],
    });
    expect((await ledger.watermark())!.transactionTime).toBe('2024-06-02T00:00:00Z');
  });

  it('fail: run FAILED with error+cause (first error wins), watermark untouched, lock released only by its owner', async () => {
    const { ledger } = setup();
    await ledger.acquire({ executionArn: arn('r1'), executionName: 'r1' });
    await ledger.fail({ runId: 'r1', executionArn: arn('other'), error: 'X', cause: 'y' });
    expect(await ledger.lock()).toBeDefined();
    await ledger.fail({ runId: 'r1', executionArn: arn('r1'), error: 'Export.JobFailed', cause: 'job j1 FAILED' });
    await ledger.fail({ runId: 'r1', executionArn: arn('r1'), error: 'Export.RunFailed', cause: 'later' });
    expect(await ledger.getRun('r1')).toMatchObject({
      status: 'FAILED',
      error: 'Export.JobFailed',
      cause: 'job j1 FAILED',
    });
    expect(await ledger.lock()).toBeUndefined();
    expect(await ledger.watermark()).toBeUndefined();
  });

  it('a failed run, or one taken over from a dead owner, cancels its job on the server (best effort, once per run)', async () => {
    const cancelled: string[] = [];
    const { ledger, states } = setup({
      cancelJob: async (job) => {
        cancelled.push(job.jobId);
        if (job.jobId === 'j2') throw new Error('server says no');
      },
    });
    await ledger.acquire({ executionArn: arn('r1'), executionName: 'r1' });
    await ledger.recordJob('r1', { jobId: 'j1', runId: 'r1', statusUrl: 'http://fhir/status/j1' });
    await ledger.fail({ runId: 'r1', executionArn: arn('r1'), error: 'States.Timeout' });
    await ledger.fail({ runId: 'r1', executionArn: arn('r1'), error: 'States.Timeout' }); // a replay cancels nothing more
    expect(cancelled).toEqual(['j1']);

    await ledger.acquire({ executionArn: arn('r2'), executionName: 'r2' });
    await ledger.recordJob('r2', { jobId: 'j2', runId: 'r2' });
    states.set(arn('r2'), 'OWNER_DEAD');
    // The dead owner's job is cancelled; a refusal from the server does not stop the takeover.
    expect((await ledger.acquire({ executionArn: arn('r3'), executionName: 'r3' })).acquired).toBe(true);
    expect(cancelled).toEqual(['j1', 'j2']);
    expect(await ledger.getRun('r2')).toMatchObject({ status: 'FAILED' });
  });

  it('handles the Step Functions status-change event (TIMED_OUT releases the lock; SUCCEEDED is ignored)', async () => {
    const { ledger } = setup();
    await ledger.acquire({ executionArn: arn('r1'), executionName: 'r1' });
    const event = (status: string) => ({
      source: 'aws.states',
      'detail-type': 'Step Functions Execution Status Change',
      detail: { executionArn: arn('r1'), name: 'r1', status, stateMachineArn: 'arn:sm' },
    });
    expect(await handleLedgerRequest(event('SUCCEEDED'), ledger)).toEqual({ ignored: true, status: 'SUCCEEDED' });
    expect(await ledger.lock()).toBeDefined();
    await handleLedgerRequest(event('TIMED_OUT'), ledger);
    expect(await ledger.getRun('r1')).toMatchObject({ status: 'FAILED', error: 'Execution.TIMED_OUT' });
    expect(await ledger.lock()).toBeUndefined();
  });

  it('complete skips tolerated Map failures ({Error, Cause}) and rejects bad input clearly', async () => {
    const { ledger } = setup();
    await ledger.acquire({ executionArn: arn('r1'), executionName: 'r1' });
    const out = await handleLedgerRequest(
      {
        action: 'complete',
        runId: 'r1',
        executionArn: arn('r1'),
        transactionTime: '2024-06-01T00:00:00Z',
        jobId: 'j',
        results: [result('Patient', 1), { Error: 'Export.FileFailed', Cause: 'x' }],
        exportErrors: [],
      },
      ledger,
    );
    expect(out).toEqual({
      status: 'COMPLETED',
      counts: { Patient: { resources: 1, deleted: 0, errors: 0 } },
      errors: {},
      failedFiles: 0,
    });
    await expect(handleLedgerRequest({ action: 'acquire' }, ledger)).rejects.toThrow(/run-ledger input/);
  });

  it('lists runs newest first and remembers the job of a run (idempotent start)', async () => {
    const { ledger, advance } = setup();
    await ledger.acquire({ executionArn: arn('r1'), executionName: 'r1', startTime: '2024-06-01T00:00:00Z' });
    await ledger.recordJob('r1', { jobId: 'j1', statusUrl: 'https://h/export/j1' });
    await ledger.fail({ runId: 'r1', executionArn: arn('r1') });
    advance(10);
    await ledger.acquire({ executionArn: arn('r2'), executionName: 'r2', startTime: '2024-06-01T00:00:10Z' });
    expect((await ledger.listRuns()).map((r) => r.runId)).toEqual(['r2', 'r1']);
    expect(await ledger.findJob('r1')).toEqual({ jobId: 'j1', runId: 'r1', statusUrl: 'https://h/export/j1' });
    expect((await ledger.getRun('r1'))!.jobId).toBe('j1');
  });
});
