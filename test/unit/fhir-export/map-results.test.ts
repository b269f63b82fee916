import { describe, expect, it } from 'vitest';
import { InMemoryLedgerStore } from '../../../src/fhir-export/ledger-store.js';
import { handleLedgerRequest } from '../../../src/fhir-export/ledger-requests.js';
import { summarizeMapResults } from '../../../src/fhir-export/map-results.js';
import { RunLedger } from '../../../src/fhir-export/run-ledger.js';
import type { ProcessFileResult } from '../../../src/fhir-export/types.js';
import { writeMapRunResults, type MapRunChildResult } from '../../../src/local/state-machine/index.js';

// CompleteRun reads the Distributed Map's ResultWriter output (AWS "ResultWriter (Map)": manifest.json lists
// SUCCEEDED_n.json / FAILED_n.json, each a JSON array of child executions with Input/Output as JSON text).
const arn = (name: string) => `arn:aws:states:eu-west-2:1:execution:sm:${name}`;

function setup() {
  const ledger = new RunLedger({
    store: new InMemoryLedgerStore(),
    executions: { statusOf: async () => 'UNKNOWN' },
    clock: { now: () => new Date('2024-06-01T00:00:00Z') },
  });
  const objects = new Map<string, string>();
  const reads: string[] = [];
  const readObject = async (bucket: string, key: string) => {
    reads.push(key);
    const body = objects.get(`${bucket}/${key}`);
    return body === undefined ? undefined : new TextEncoder().encode(body);
  };
  return { ledger, objects, reads, readObject };
}

const fileResult = (type: string, i: number): ProcessFileResult => ({
  type,
  kind: 'output',
  key: `exports/job/${type}-${i}.ndjson`,
  resources: 2,
  deleted: 0,
  errors: i % 10 === 0 ? 1 : 0,
  files: 1,
});

/** Child results as the executor would hand them to the ResultWriter: `item` as the ItemSelector builds it. */
function children(count: number, failedEvery = 0): MapRunChildResult[] {
  return Array.from({ length: count }, (_, i) => {
    const type = i % 2 === 0 ? 'Patient' : 'Observation';
    const item = { bucket: 'exp', key: `exports/job/${type}-${i}.ndjson`, type, kind: 'output' };
    const failed = failedEvery > 0 && i % failedEvery === failedEvery - 1;
    return {
      name: `run-ProcessFiles-${i}`,
      executionArn: `${arn('run')}/${i}`,
      input: { item, runId: 'r1', jobId: 'j', transactionTime: '2024-06-01T00:00:00Z' },
      succeeded: !failed,
      output: failed ? { Error: 'Export.FileFailed', Cause: `file ${i} unreadable` } : fileResult(type, i),
    };
  });
}

async function write(objects: Map<string, string>, results: MapRunChildResult[], maxFileBytes = 64 * 1024 * 1024) {
  const out = await writeMapRunResults({
    bucket: 'exp',
    prefix: 'exports/map-results',
    mapRunArn: 'arn:aws:states:eu-west-2:1:mapRun:sm/ProcessFiles:0000',
    mapRunId: '0000',
    stateMachineArn: 'arn:aws:states:eu-west-2:1:stateMachine:sm',
    children: results,
    maxFileBytes,
    put: async (key, body) => void objects.set(`exp/${key}`, body),
  });
  return out.ResultWriterDetails;
}

describe('CompleteRun from the Map result files', () => {
  it('sums 2,000 file results read file by file from SUCCEEDED_n.json, with a request of a few hundred bytes', async () => {
    const { ledger, objects, reads, readObject } = setup();
    await ledger.acquire({ executionArn: arn('r1'), executionName: 'r1' });
    const mapResults = await write(objects, children(2_000), 100_000);
    const request = {
      action: 'complete',
      runId: 'r1',
      executionArn: arn('r1'),
      transactionTime: '2024-06-01T00:00:00Z',
      jobId: 'j',
      mapResults,
      exportErrors: [],
    };
    expect(JSON.stringify(request).length).toBeLessThan(400);
    const out = await handleLedgerRequest(request, ledger, { readObject });
    expect(out).toEqual({
      status: 'COMPLETED_WITH_ERRORS',
      counts: {
        // Every 10th file (all Patient) had one rejected line.
        Patient: { resources: 2_000, deleted: 0, errors: 200 },
        Observation: { resources: 2_000, deleted: 0, errors: 0 },
      },
      errors: { Patient: 200 },
      failedFiles: 0,
    });
    // manifest first, then several result files (each read once).
    expect(reads[0]).toBe('exports/map-results/0000/manifest.json');
    expect(reads.length).toBeGreaterThan(3);
    expect(new Set(reads).size).toBe(reads.length);
    expect((await ledger.watermark())?.transactionTime).toBe('2024-06-01T00:00:00Z');
  });

  it('counts tolerated failed files from FAILED_n.json: COMPLETED_WITH_ERRORS, the files named on the run', async () => {
    const { ledger, objects, readObject } = setup();
    await ledger.acquire({ executionArn: arn('r1'), executionName: 'r1' });
    const results = children(40, 4).map((c) =>
      c.succeeded ? { ...c, output: { ...(c.output as ProcessFileResult), errors: 0 } } : c,
    );
    const mapResults = await write(objects, results);
    const out = (await handleLedgerRequest(
      {
        action: 'complete',
        runId: 'r1',
        executionArn: arn('r1'),
        transactionTime: '2024-06-01T00:00:00Z',
        jobId: 'j',
        mapResults,
      },
      ledger,
      { readObject },
    )) as { status: string; failedFiles: number };
    expect(out.status).toBe('COMPLETED_WITH_ERRORS');
    expect(out.failedFiles).toBe(10);
    const run = (await ledger.getRun('r1'))!;
    expect(run.status).toBe('COMPLETED_WITH_ERRORS');
    expect(run.failedFiles?.count).toBe(10);
    expect(run.failedFiles?.files[0]).toEqual({
      type: 'Observation',
      key: 'exports/job/Observation-3.ndjson',
      error: 'Export.FileFailed',
      cause: 'file 3 unreadable',
    });
    // Every 4th file failed (all Observation): 20 Patient and 10 Observation files landed.
    expect(run.counts).toEqual({
      Patient: { resources: 40, deleted: 0, errors: 0 },
      Observation: { resources: 20, deleted: 0, errors: 0 },
    });
  });

  it('reads result files shaped as AWS writes them (extra fields, Output as JSON text)', async () => {
    const { objects, readObject } = setup();
    const entry = (i: number) => ({
      ExecutionArn: `arn:aws:states:eu-west-2:1:execution:sm/ProcessFiles:${i}`,
      Input: JSON.stringify({ item: { type: 'Patient', key: `k${i}` } }),
      InputDetails: { Included: true },
      Name: `${i}`,
      Output: JSON.stringify(fileResult('Patient', i + 1)),
      OutputDetails: { Included: true },
      RedriveCount: 0,
      RedriveStatus: 'NOT_REDRIVABLE',
      RedriveStatusReason: 'Execution is SUCCEEDED and cannot be redriven',
      StartDate: '2024-06-01T00:00:00.000Z',
      StateMachineArn: 'arn:aws:states:eu-west-2:1:stateMachine:sm/ProcessFiles',
      Status: 'SUCCEEDED',
      StopDate: '2024-06-01T00:00:01.000Z',
    });
    objects.set('exp/r/uuid/SUCCEEDED_0.json', JSON.stringify([entry(0), entry(1)]));
    objects.set('exp/r/uuid/SUCCEEDED_1.json', JSON.stringify([entry(2)]));
    objects.set(
      'exp/r/uuid/manifest.json',
      JSON.stringify({
        DestinationBucket: 'exp',
        MapRunArn: 'arn:aws:states:eu-west-2:1:mapRun:sm/ProcessFiles:uuid',
        ResultFiles: {
          FAILED: [],
          PENDING: [],
          SUCCEEDED: [
            { Key: 'r/uuid/SUCCEEDED_0.json', Size: 1 },
            { Key: 'r/uuid/SUCCEEDED_1.json', Size: 1 },
          ],
        },
      }),
    );
    const summary = await summarizeMapResults({ Bucket: 'exp', Key: 'r/uuid/manifest.json' }, readObject);
    expect(summary).toEqual({
      counts: { Patient: { resources: 6, deleted: 0, errors: 0 } },
      files: 3,
      failedFiles: 0,
      failed: [],
    });
  });

  it('a missing manifest fails CompleteRun (Ledger.MapResultsNotFound) and leaves the watermark', async () => {
    const { ledger, readObject } = setup();
    await ledger.acquire({ executionArn: arn('r1'), executionName: 'r1' });
    const request = {
      action: 'complete',
      runId: 'r1',
      executionArn: arn('r1'),
      transactionTime: '2024-06-01T00:00:00Z',
      jobId: 'j',
      mapResults: { Bucket: 'exp', Key: 'nope/manifest.json' },
    };
    await expect(handleLedgerRequest(request, ledger, { readObject })).rejects.toMatchObject({
      name: 'Ledger.MapResultsNotFound',
    });
    await expect(handleLedgerRequest(request, ledger)).rejects.toThrow(/no object reader/);
    expect(await ledger.watermark()).toBeUndefined();
  });
});

describe('RecordFailure with the caught error object', () => {
  it('records an error that has no Cause, and answers it with an empty cause for the failure event', async () => {
    const { ledger } = setup();
    await ledger.acquire({ executionArn: arn('r1'), executionName: 'r1' });
    const out = await handleLedgerRequest(
      { action: 'fail', runId: 'r1', executionArn: arn('r1'), error: { Error: 'States.HeartbeatTimeout' } },
      ledger,
    );
    expect(out).toEqual({ status: 'FAILED', error: 'States.HeartbeatTimeout', cause: '' });
    expect(await ledger.getRun('r1')).toMatchObject({ status: 'FAILED', error: 'States.HeartbeatTimeout', cause: '' });
    expect(await ledger.lock()).toBeUndefined();
  });

  it('still accepts the error object with a Cause, and the older error/cause strings', async () => {
    const { ledger } = setup();
    await ledger.acquire({ executionArn: arn('r1'), executionName: 'r1' });
    expect(
      await handleLedgerRequest(
        { action: 'fail', runId: 'r1', executionArn: arn('r1'), error: { Error: 'Export.JobFailed', Cause: 'boom' } },
        ledger,
      ),
    ).toEqual({ status: 'FAILED', error: 'Export.JobFailed', cause: 'boom' });
    expect(await ledger.getRun('r1')).toMatchObject({ error: 'Export.JobFailed', cause: 'boom' });
    await ledger.acquire({ executionArn: arn('r2'), executionName: 'r2' });
    expect(
      await handleLedgerRequest(
        { action: 'fail', runId: 'r2', executionArn: arn('r2'), error: 'Export.StartFailed', cause: 'refused' },
        ledger,
      ),
    ).toEqual({ status: 'FAILED', error: 'Export.StartFailed', cause: 'refused' });
  });
});
