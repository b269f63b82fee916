import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LocalExportRuntime } from '../../../src/local/export-runtime/index.js';
import type { FhirExportSource } from '../../../src/fhir-export/types.js';
import { HealthLakeExportSource } from '../../../src/fhir-export/healthlake-export-source.js';
import { createSigV4Fetch } from '../../../src/fhir-export/sigv4-fetch.js';
import { LocalStack, observation, patient } from './local-stack.js';

/** After a failed run: run FAILED with this error, lock released, watermark unchanged; the next run succeeds. */
async function expectCleanFailureThenRecovery(
  stack: LocalStack,
  runtime: LocalExportRuntime,
  result: { runId: string; status: string; error?: { error: string } },
  expectedError: string | RegExp,
  watermarkBefore: string | undefined,
  nextRuntime?: () => Promise<LocalExportRuntime>,
) {
  expect(result.status).toBe('FAILED');
  const run = (await runtime.ledger.getRun(result.runId))!;
  expect(run.status).toBe('FAILED');
  expect(run.error).toMatch(expectedError);
  expect(await runtime.ledger.lock()).toBeUndefined();
  expect((await runtime.ledger.watermark())?.transactionTime).toBe(watermarkBefore);
  const next = nextRuntime ? await nextRuntime() : runtime;
  const again = await next.runOnce();
  expect(again.error).toBeUndefined();
  expect(again.status).toBe('COMPLETED');
  expect(await next.ledger.lock()).toBeUndefined();
  expect((await next.ledger.watermark())?.transactionTime).toBe(
    (await next.ledger.getRun(again.runId))!.transactionTime,
  );
  return again;
}

describe('local export workflow: failure injection', () => {
  let stack: LocalStack;
  beforeEach(async () => {
    stack = await LocalStack.start();
    await stack.put(patient('p1', 'Alpha'));
    await stack.put(observation('o1', 'p1', 60));
  });
  afterEach(async () => {
    await stack.close();
  });

  it('start error: the kick-off is refused -> Export.StartFailed via SendTaskFailure', async () => {
    const badBase = stack.fhir.fhirBaseUrl.replace(/datastore\/[^/]+/, 'datastore/0000000000000000000000000000dead');
    const runtime = await stack.runtimeWith({}, { fhirBaseUrl: badBase, healthlakeEndpoint: undefined });
    const result = await runtime.runOnce();
    await expectCleanFailureThenRecovery(stack, runtime, result, 'Export.StartFailed', undefined, async () => {
      await stack.closeRuntime();
      return stack.runtimeWith();
    });
  });

  it('job FAILED -> Export.JobFailed with the server message as cause', async () => {
    const runtime = await stack.runtimeWith();
    stack.fhir.exportFaults.failNextExport = 'disk full (injected)';
    const result = await runtime.runOnce();
    expect((await runtime.ledger.getRun(result.runId))!.cause).toContain('disk full (injected)');
    await expectCleanFailureThenRecovery(stack, runtime, result, 'Export.JobFailed', undefined);
  });

  it('COMPLETED_WITH_ERRORS under policy fail -> Export.CompletedWithErrors, nothing landed', async () => {
    const runtime = await stack.runtimeWith({ completedWithErrors: 'fail' });
    stack.fhir.exportFaults.errorTypes = ['Observation'];
    const result = await runtime.runOnce();
    expect(await stack.lakeLines('Patient')).toHaveLength(0);
    stack.fhir.exportFaults.errorTypes = [];
    const again = await expectCleanFailureThenRecovery(stack, runtime, result, 'Export.CompletedWithErrors', undefined);
    expect(again.counts.Observation?.resources).toBe(1);
  });

  it('COMPLETED_WITH_ERRORS under policy continue -> run COMPLETED_WITH_ERRORS, error lines landed, event emitted, watermark advances', async () => {
    const runtime = await stack.runtimeWith({ completedWithErrors: 'continue' });
    stack.fhir.exportFaults.errorTypes = ['Observation'];
    const result = await runtime.runOnce();
    expect(result.status).toBe('COMPLETED_WITH_ERRORS');
    expect(result.counts.Patient?.resources).toBe(1);
    expect(result.errors).toEqual({ OperationOutcome: 1 });
    const run = (await runtime.ledger.getRun(result.runId))!;
    expect(run.status).toBe('COMPLETED_WITH_ERRORS');
    expect(run.counts?.OperationOutcome?.errors).toBe(1);
    expect(run.exportErrors?.length).toBeGreaterThan(0);
    expect(run.exportErrors![0]!.type).toBe('OperationOutcome');
    // The export's OperationOutcome lines are in the lake, with the run's ids.
    const errorLines: Array<Record<string, unknown>> = [];
    for await (const { key } of stack.lake.list('_errors/fhir-export/')) {
      for (const line of gunzipSync((await stack.lake.get(key))!)
        .toString('utf8')
        .split('\n'))
        if (line) errorLines.push(JSON.parse(line) as Record<string, unknown>);
    }
    expect(errorLines).toHaveLength(1);
    expect(errorLines[0]).toMatchObject({
      pipeline: 'fhir-export',
      runId: result.runId,
      jobId: run.jobId,
      transactionTime: run.transactionTime,
      outcome: { resourceType: 'OperationOutcome' },
    });
    expect(JSON.stringify(errorLines[0]!.outcome)).toContain('export of Observation failed');
    const event = stack.bus.events.find((e) => e.detailType === 'ExportRunCompletedWithErrors');
    expect(event).toMatchObject({
      source: 'tributary.export',
      detail: { runId: result.runId, jobId: run.jobId, errors: { OperationOutcome: 1 } },
    });
    expect(await runtime.ledger.lock()).toBeUndefined();
    // `continue`: the watermark advances; the failed resources are in _errors/fhir-export/ only.
    expect((await runtime.ledger.watermark())?.transactionTime).toBe(run.transactionTime);
  });

  it('heartbeat timeout: checks stop arriving -> States.HeartbeatTimeout, late check is dropped', async () => {
    let stall = true;
    const runtime = await stack.runtimeWith(
      { heartbeatSeconds: 1, initialCheckDelaySeconds: 0.05, maxCheckDelaySeconds: 0.2 },
      {
        source: stallingSource(stack, () => stall),
      },
    );
    const result = await runtime.runOnce();
    stall = false;
    await expectCleanFailureThenRecovery(stack, runtime, result, 'States.HeartbeatTimeout', undefined);
  });

  it('process-file failure: retries exhausted -> run FAILED, watermark unchanged; a retry overwrites, never doubles', async () => {
    let failing = true;
    const runtime = await stack.runtimeWith(
      {},
      {
        wrapProcessFile: async (run) => {
          await run(); // lands the file, then fails: the retried run must not double it
          if (failing) throw Object.assign(new Error('injected process-file failure'), { name: 'InjectedFailure' });
          return run();
        },
      },
    );
    const result = await runtime.runOnce();
    failing = false;
    // Three attempts of the same file in the failed run wrote the same objects: one line.
    expect(await stack.lakeLines('Patient')).toHaveLength(1);
    await expectCleanFailureThenRecovery(
      stack,
      runtime,
      result,
      /Export.FileFailed|States.ExceedToleratedFailureThreshold/,
      undefined,
    );
    // The re-run exports the same window again under a new job (Bulk Data windows may overlap): the same version
    // lands once more, and readers dedupe on (resourceType, id, meta.versionId).
    const lines = await stack.lakeLines('Patient');
    expect(lines).toHaveLength(2);
    expect(
      new Set(lines.map((l) => `${String(l.id)}@${String((l.meta as { versionId?: string }).versionId)}`)).size,
    ).toBe(1);
    expect([...(await stack.currentState('Patient')).keys()]).toEqual(['p1']);
  }, 60_000);

  it('process killed mid-run (waiting for the export): after recover() the run fails cleanly and the lock is recovered', async () => {
    const runtime = await stack.runtimeWith();
    stack.fhir.exportFaults.delayPerFileMs = 1500;
    const pending = runtime.runOnce().catch((error: unknown) => error);
    await waitFor(
      async () =>
        (await runtime.ledger.lock()) !== undefined && (await runtime.ledger.listRuns())[0]?.jobId !== undefined,
    );
    const runId = (await runtime.ledger.lock())!.runId;
    await stack.closeRuntime();
    await pending;
    stack.fhir.exportFaults.delayPerFileMs = 0;

    const revived = await stack.runtimeWith();
    const arn = (await revived.executor.listExecutions()).find((e) => e.name === runId)!.executionArn;
    const ended = await revived.executor.waitForExecution(arn);
    expect(ended.status).toBe('FAILED');
    await waitFor(async () => (await revived.ledger.getRun(runId))?.status === 'FAILED');
    await expectCleanFailureThenRecovery(
      stack,
      revived,
      { runId, status: 'FAILED' },
      'Tributary.ProcessRestarted',
      undefined,
    );
  });

  it('process killed mid-run (processing files): after recover() the map resumes and the run completes', async () => {
    let block = true;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const runtime = await stack.runtimeWith(
      {},
      {
        wrapProcessFile: async (run) => {
          if (block) await gate;
          return run();
        },
      },
    );
    const pending = runtime.runOnce().catch((error: unknown) => error);
    await waitFor(
      async () =>
        (await runtime.executor.listExecutions()).length > 0 &&
        (await runtime.executor.history((await runtime.executor.listExecutions())[0]!.executionArn)).some(
          (e) => e.type === 'MapRunStarted',
        ),
    );
    const runId = (await runtime.ledger.lock())!.runId;
    const closing = stack.closeRuntime();
    block = false;
    release();
    await closing;
    await pending;

    const revived = await stack.runtimeWith();
    const arn = (await revived.executor.listExecutions()).find((e) => e.name === runId)!.executionArn;
    const ended = await revived.executor.waitForExecution(arn);
    expect(ended.status).toBe('SUCCEEDED');
    const run = (await revived.ledger.getRun(runId))!;
    expect(run.status).toBe('COMPLETED');
    expect(run.counts?.Patient?.resources).toBe(1);
    expect(await revived.ledger.lock()).toBeUndefined();
    expect((await revived.ledger.watermark())?.transactionTime).toBe(run.transactionTime);
    expect(await stack.lakeLines('Patient')).toHaveLength(1);
  });

  it('a second run while one holds the lock is SKIPPED (AlreadyRunning) and leaves the lock alone', async () => {
    const runtime = await stack.runtimeWith({}, { owner: 'up:test-host:4242' });
    stack.fhir.exportFaults.delayPerFileMs = 500;
    const first = runtime.runOnce();
    await waitFor(async () => (await runtime.ledger.lock()) !== undefined);
    const holder = (await runtime.ledger.lock())!.runId;
    const second = await runtime.runOnce();
    expect(second.status).toBe('SKIPPED');
    // The skip names the run holding the lock and its owner process.
    expect(second.reason).toBe(`run ${holder} is running (owner up (pid 4242 on test-host))`);
    expect((await runtime.ledger.getRun(second.runId))!.cause).toBe(second.reason);
    expect((await first).status).toBe('COMPLETED');
    expect(await runtime.ledger.lock()).toBeUndefined();
  });
});

function stallingSource(stack: LocalStack, stalled: () => boolean): FhirExportSource {
  const real = new HealthLakeExportSource({
    fhirBaseUrl: stack.fhir.fhirBaseUrl,
    fetch: createSigV4Fetch({ region: 'eu-west-2', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }),
    outputS3Uri: 's3://tributary-export/fhir-exports',
    registry: { findJob: async () => undefined, recordJob: async () => undefined },
  });
  return {
    startExport: (request) => real.startExport(request),
    describeExport: async (job) => {
      if (stalled()) await new Promise((resolve) => setTimeout(resolve, 2500));
      return real.describeExport(job);
    },
    locate: (url) => real.locate(url),
  };
}

async function waitFor(predicate: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('condition not met in time');
}
