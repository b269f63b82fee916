import { DescribeFHIRExportJobCommand, HealthLakeClient } from '@aws-sdk/client-healthlake';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ExportStatusShape } from '../../../src/local/fhir-store/index.js';
import { LocalStack, observation, patient } from './local-stack.js';

type Api = 'fhir-rest' | 'control-plane';

const CASES: Array<{ api: Api; shape: ExportStatusShape; watermark: 'transactionTime' | 'submitTime' }> = [
  { api: 'fhir-rest', shape: 'bulk-data', watermark: 'transactionTime' },
  { api: 'fhir-rest', shape: 'job-properties', watermark: 'submitTime' },
  // DescribeFHIRExportJob never reports transactionTime or files, whatever the store's shape.
  { api: 'control-plane', shape: 'bulk-data', watermark: 'submitTime' },
  { api: 'control-plane', shape: 'job-properties', watermark: 'submitTime' },
];

describe.each(CASES)('HealthLake answer shapes: $api, status shape $shape', ({ api, shape, watermark }) => {
  let stack: LocalStack;
  beforeEach(async () => {
    stack = await LocalStack.start();
    stack.faults.statusShape = shape;
    // The cut is taken after this pause, so transactionTime is strictly after submitTime and the two are told apart.
    stack.faults.delayBeforeStartMs = 5;
  });
  afterEach(async () => {
    await stack.close();
  });

  /** The job as the full Bulk Data answer reports it (read with the shape switched back for a moment). */
  async function jobTimes(jobId: string): Promise<{ transactionTime: string; submitTime: string }> {
    stack.faults.statusShape = 'bulk-data';
    try {
      const body = (await (await fetch(`${stack.fhir.fhirBaseUrl}/export/${jobId}`)).json()) as {
        transactionTime: string;
        exportJobProperties: { submitTime: string };
      };
      return { transactionTime: body.transactionTime, submitTime: body.exportJobProperties.submitTime };
    } finally {
      stack.faults.statusShape = shape;
    }
  }

  it('lands the same resources (deletions as tombstones) and advances the watermark, run after run', async () => {
    await stack.put(patient('p1', 'Alpha'));
    await stack.put(patient('p2', 'Beta'));
    await stack.put(observation('o1', 'p1', 72));
    const runtime = await stack.runtimeWith({ source: { type: 'embedded', api } });

    const first = await runtime.runOnce();
    expect(first.error).toBeUndefined();
    expect(first.status).toBe('COMPLETED');
    expect(first.counts).toEqual({
      Patient: { resources: 2, deleted: 0, errors: 0 },
      Observation: { resources: 1, deleted: 0, errors: 0 },
    });
    const firstRun = (await runtime.ledger.getRun(first.runId))!;
    const times = await jobTimes(firstRun.jobId!);
    expect(Date.parse(times.transactionTime)).toBeGreaterThan(Date.parse(times.submitTime));
    expect((await runtime.ledger.watermark())!.transactionTime).toBe(times[watermark]);
    expect(firstRun.transactionTime).toBe(times[watermark]);
    expect([...(await stack.currentState('Patient')).keys()].sort()).toEqual(['p1', 'p2']);
    expect([...(await stack.currentState('Observation')).keys()]).toEqual(['o1']);

    await stack.put(patient('p1', 'Alpha-Updated'));
    await stack.put(patient('p3', 'Gamma'));
    await stack.remove('Patient', 'p2');
    const second = await runtime.runOnce();
    expect(second.status).toBe('COMPLETED');
    const secondRun = (await runtime.ledger.getRun(second.runId))!;
    expect(secondRun.since).toBe(times[watermark]);
    expect(second.counts.Patient).toEqual({ resources: 2, deleted: 1, errors: 0 });
    // `$export?_since=` exports only the changes; StartFHIRExportJob takes no `_since`, so o1 comes again.
    expect(second.counts.Observation).toEqual(
      api === 'fhir-rest' ? undefined : { resources: 1, deleted: 0, errors: 0 },
    );
    const secondTimes = await jobTimes(secondRun.jobId!);
    expect((await runtime.ledger.watermark())!.transactionTime).toBe(secondTimes[watermark]);
    const current = await stack.currentState('Patient');
    expect([...current.keys()].sort()).toEqual(['p1', 'p3']);
    expect((current.get('p1')!.name as Array<{ family: string }>)[0]!.family).toBe('Alpha-Updated');
  });
});

describe('HealthLake answer shapes: error files found by listing', () => {
  let stack: LocalStack;
  beforeEach(async () => {
    stack = await LocalStack.start();
  });
  afterEach(async () => {
    await stack.close();
  });

  it.each(['fhir-rest', 'control-plane'] as const)(
    "%s, job properties only: the folder's _errors files make the run COMPLETED_WITH_ERRORS",
    async (api) => {
      await stack.put(patient('p1', 'Alpha'));
      await stack.put(observation('o1', 'p1', 72));
      stack.faults.statusShape = 'job-properties';
      stack.faults.errorTypes = ['Observation'];
      const runtime = await stack.runtimeWith({ completedWithErrors: 'continue', source: { type: 'embedded', api } });
      const result = await runtime.runOnce();
      expect(result.status).toBe('COMPLETED_WITH_ERRORS');
      expect(result.counts.Patient?.resources).toBe(1);
      expect(result.errors).toEqual({ OperationOutcome: 1 });
      const run = (await runtime.ledger.getRun(result.runId))!;
      expect(run.exportErrors?.map((file) => file.type)).toEqual(['OperationOutcome']);
    },
  );
});

describe('embedded store: the job-properties shape', () => {
  let stack: LocalStack;
  beforeEach(async () => {
    stack = await LocalStack.start();
  });
  afterEach(async () => {
    await stack.close();
  });

  it('answers a completed job with exportJobProperties only, naming the job folder, on REST and the control plane', async () => {
    await stack.put(patient('p1', 'Alpha'));
    stack.faults.statusShape = 'job-properties';
    const kickoff = await fetch(`${stack.fhir.fhirBaseUrl}/$export`, { headers: { prefer: 'respond-async' } });
    const statusUrl = kickoff.headers.get('content-location')!;
    await kickoff.body?.cancel();
    await stack.fhir.whenExportsIdle();
    const jobId = statusUrl.split('/').pop()!;
    const folder = `s3://tributary-export/${stack.fhir.datastoreId}-FHIR_EXPORT-${jobId}/`;

    const body = (await (await fetch(statusUrl)).json()) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(['exportJobProperties']);
    expect(body.exportJobProperties).toMatchObject({
      jobId,
      jobStatus: 'COMPLETED',
      outputDataConfig: { s3Configuration: { s3Uri: folder } },
    });

    const client = new HealthLakeClient({
      endpoint: stack.fhir.healthlakeEndpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const described = await client.send(
      new DescribeFHIRExportJobCommand({ DatastoreId: stack.fhir.datastoreId, JobId: jobId }),
    );
    expect(described.ExportJobProperties?.OutputDataConfig?.S3Configuration?.S3Uri).toBe(folder);
    client.destroy();
  });
});
