import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HealthLakeExportSource } from '../../../src/fhir-export/healthlake-export-source.js';
import { InMemoryJobRegistry } from '../../../src/fhir-export/job-registry.js';
import { createSigV4Fetch } from '../../../src/fhir-export/sigv4-fetch.js';
import type { FhirExportSource } from '../../../src/fhir-export/types.js';
import { LocalStack, patient } from './local-stack.js';

describe('local export workflow: execution timeout and schedule', () => {
  let stack: LocalStack;
  beforeEach(async () => {
    stack = await LocalStack.start();
    await stack.put(patient('p1', 'Alpha'));
  });
  afterEach(async () => {
    await stack.close();
  });

  it('an execution TIMED_OUT (seen by no Catch) releases the lock through the end event; the next run succeeds', async () => {
    let stuck = true;
    const real = new HealthLakeExportSource({
      fhirBaseUrl: stack.fhir.fhirBaseUrl,
      fetch: createSigV4Fetch({ region: 'eu-west-2', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }),
      outputS3Uri: 's3://tributary-export/fhir-exports',
      registry: new InMemoryJobRegistry(),
    });
    // While stuck, the job always reports IN_PROGRESS (heartbeats keep the task alive until the execution times out).
    const source: FhirExportSource = {
      startExport: (request) => real.startExport(request),
      describeExport: async (job) => (stuck ? { status: 'IN_PROGRESS' } : real.describeExport(job)),
      locate: (url) => real.locate(url),
    };
    const runtime = await stack.runtimeWith(
      { executionTimeoutSeconds: 2, heartbeatSeconds: 1, maxCheckDelaySeconds: 0.2 },
      { source },
    );
    const result = await runtime.runOnce();
    expect(result.status).toBe('FAILED');
    expect(result.error?.error).toBe('States.Timeout');
    expect(await runtime.ledger.lock()).toBeUndefined();
    expect(await runtime.ledger.watermark()).toBeUndefined();

    stuck = false;
    await stack.closeRuntime();
    const next = await stack.runtimeWith({}, { source });
    expect((await next.runOnce()).status).toBe('COMPLETED');
  });

  it('startSchedule starts runs on an interval; overlapping runs are skipped, and listRuns shows the history', async () => {
    const runtime = await stack.runtimeWith();
    stack.fhir.exportFaults.delayPerFileMs = 300;
    const stop = runtime.startSchedule(150);
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const runs = await runtime.listRuns();
      if (runs.some((r) => r.status === 'COMPLETED') && runs.some((r) => r.status === 'SKIPPED')) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    stop();
    const runs = await runtime.listRuns();
    expect(runs.some((r) => r.status === 'COMPLETED')).toBe(true);
    expect(runs.some((r) => r.status === 'SKIPPED')).toBe(true);
    // Let started executions finish before closing.
    for (const execution of await runtime.executor.listExecutions())
      await runtime.executor.waitForExecution(execution.executionArn);
  });
});
