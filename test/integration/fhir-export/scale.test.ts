import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { locateExportUrl } from '../../../src/fhir-export/locate.js';
import type { FhirExportSource } from '../../../src/fhir-export/types.js';
import { LOCAL_EXPORT_BUCKET, loadWorkflowDefinition } from '../../../src/local/export-runtime/index.js';
import { payloadBytes } from '../../../src/local/state-machine/index.js';
import { stateDirPaths } from '../../../src/local/state-dir.js';
import { LocalStack } from './local-stack.js';

// Issue 10 §3: a first full export of a few million resources is thousands of files. Inline Map results put every
// file's result in the execution (~1,000 files reach the 256 KiB quota, States.DataLimitExceeded); with the
// ResultWriter only the manifest's location travels, and CompleteRun reads the results from the bucket.
const TRANSACTION_TIME = '2024-06-01T00:00:00.000Z';

/** An export of `count` one-line Patient files, written straight into the local export bucket. */
async function fakeExport(stack: LocalStack, count: number): Promise<FhirExportSource> {
  const keys = Array.from(
    { length: count },
    (_, i) => `fhir-exports/job-scale/Patient-${String(i).padStart(5, '0')}.ndjson`,
  );
  const bucketDir = join(stateDirPaths(stack.stateDir).buckets, LOCAL_EXPORT_BUCKET);
  await mkdir(dirname(join(bucketDir, keys[0]!)), { recursive: true });
  // Plain writes (the bucket directory's layout): fixture setup, not what is under test.
  await Promise.all(
    keys.map((key, i) =>
      writeFile(
        join(bucketDir, key),
        `${JSON.stringify({ resourceType: 'Patient', id: `p${i}`, meta: { lastUpdated: TRANSACTION_TIME } })}\n`,
      ),
    ),
  );
  const urls = keys.map((key) => `s3://${LOCAL_EXPORT_BUCKET}/${key}`);
  return {
    startExport: async () => ({ jobId: 'job-scale' }),
    describeExport: async () => ({
      status: 'COMPLETED',
      manifest: {
        transactionTime: TRANSACTION_TIME,
        output: urls.map((url) => ({ type: 'Patient', url, count: 1 })),
        deleted: [],
        error: [],
      },
    }),
    locate: locateExportUrl,
  };
}

describe('local export workflow at scale (ResultWriter)', () => {
  let stack: LocalStack;
  beforeEach(async () => {
    stack = await LocalStack.start();
  });
  afterEach(async () => {
    await stack.close();
  });

  it('lands an export of 2,000 files; what reaches CompleteRun stays under 4 KiB and the watermark advances', async () => {
    const source = await fakeExport(stack, 2_000);
    const runtime = await stack.runtimeWith({ mapMaxConcurrency: 100 }, { source });
    const result = await runtime.runOnce();
    expect(result.error).toBeUndefined();
    expect(result.status).toBe('COMPLETED');
    expect(result.counts).toEqual({ Patient: { resources: 2_000, deleted: 0, errors: 0 } });
    expect((await runtime.ledger.watermark())?.transactionTime).toBe(TRANSACTION_TIME);

    // The execution's final state is CompleteRun's input plus its small answer: no per-file data in it.
    const executionArn = `${runtime.executor.stateMachineArn.replace(':stateMachine:', ':execution:')}:${result.runId}`;
    const { output } = await runtime.executor.describeExecution(executionArn);
    const state = output as { processed: { Bucket: string; Key: string }; completed: unknown };
    expect(state.processed).toEqual({
      Bucket: LOCAL_EXPORT_BUCKET,
      Key: expect.stringMatching(/^exports\/map-results\/[0-9a-f-]{36}\/manifest\.json$/),
    });
    expect(payloadBytes({ ...state, completed: undefined })).toBeLessThan(4 * 1024);
    expect(payloadBytes(output)).toBeLessThan(4 * 1024);
  });

  it('counts files that fail within ToleratedFailurePercentage: COMPLETED_WITH_ERRORS, the files named on the run', async () => {
    const source = await fakeExport(stack, 20);
    // The committed workflow, without ProcessFile's retries (2 s + 4 s of back-off) to keep the test fast.
    const definition = loadWorkflowDefinition().definition as {
      States: { ProcessFiles: { ItemProcessor: { States: { ProcessFile: { Retry?: unknown } } } } };
    };
    delete definition.States.ProcessFiles.ItemProcessor.States.ProcessFile.Retry;
    const runtime = await stack.runtimeWith(
      { toleratedFailurePercentage: 20 },
      {
        source,
        definition,
        wrapProcessFile: async (run, input) => {
          const { key } = (input as { item: { key: string } }).item;
          if (/Patient-0000[37]\.ndjson$/.test(key)) throw Object.assign(new Error('disk on fire'), { name: 'Boom' });
          return run();
        },
      },
    );
    const result = await runtime.runOnce();
    expect(result.status).toBe('COMPLETED_WITH_ERRORS');
    expect(result.counts).toEqual({ Patient: { resources: 18, deleted: 0, errors: 0 } });
    expect(result.failedFiles?.count).toBe(2);
    const run = (await runtime.ledger.getRun(result.runId))!;
    expect(run.failedFiles?.count).toBe(2);
    expect(run.failedFiles?.files.map((f) => f.key).sort()).toEqual([
      'fhir-exports/job-scale/Patient-00003.ndjson',
      'fhir-exports/job-scale/Patient-00007.ndjson',
    ]);
    // ProcessFileFailed keeps the original error (name and message) in its cause.
    expect(run.failedFiles?.files[0]).toMatchObject({
      error: 'Export.FileFailed',
      cause: expect.stringContaining('Boom'),
    });
    const event = stack.bus.events.find((e) => e.detailType === 'ExportRunCompletedWithErrors');
    expect(event?.detail).toMatchObject({ runId: result.runId, failedFiles: 2 });
  });
});
