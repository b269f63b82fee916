import type { HealthLakeClient } from '@aws-sdk/client-healthlake';
import { describe, expect, it } from 'vitest';
import { ExportStartError, TransientExportError } from '../../../src/fhir-export/errors.js';
import {
  clientTokenOf,
  describeControlPlaneExport,
  startControlPlaneExport,
} from '../../../src/fhir-export/healthlake-control-plane-jobs.js';
import { HealthLakeExportSource } from '../../../src/fhir-export/healthlake-export-source.js';
import { completeSparseStatus } from '../../../src/fhir-export/healthlake-sparse-status.js';
import { InMemoryJobRegistry } from '../../../src/fhir-export/job-registry.js';
import { MemoryObjectStore } from '../lake/memory-store.js';

const BASE = 'https://healthlake.eu-west-2.amazonaws.com/datastore/ds1/r4';
const FOLDER = 'fhir/ds1-FHIR_EXPORT-j1/';

function storeWith(...keys: string[]): MemoryObjectStore {
  const store = new MemoryObjectStore();
  for (const key of keys) store.objects.set(key, new Uint8Array());
  return store;
}

function sourceAnswering(body: unknown, store: MemoryObjectStore, listed: string[] = []): HealthLakeExportSource {
  return new HealthLakeExportSource({
    fhirBaseUrl: BASE,
    fetch: async () => new Response(JSON.stringify(body), { status: 200 }),
    outputS3Uri: 's3://exports/fhir',
    registry: new InMemoryJobRegistry(),
    exportStore: (bucket) => {
      listed.push(bucket);
      return store;
    },
  });
}

describe('HealthLakeExportSource.describeExport: sparse status answers', () => {
  it('uses exportJobProperties.submitTime when transactionTime is absent, and lists the job folder when output[] is', async () => {
    const store = storeWith(`${FOLDER}Patient/Patient-0.ndjson`, `${FOLDER}Observation/Observation-0.ndjson`);
    const buckets: string[] = [];
    const source = sourceAnswering(
      {
        exportJobProperties: {
          jobId: 'j1',
          jobStatus: 'COMPLETED',
          submitTime: '2024-05-01T10:00:00.000Z',
          endTime: '2024-05-01T10:05:00.000Z',
          datastoreId: 'ds1',
          outputDataConfig: { S3Configuration: { S3Uri: 's3://exports/fhir' } },
        },
      },
      store,
      buckets,
    );
    const description = await source.describeExport({ jobId: 'j1' });
    expect(buckets).toEqual(['exports']);
    expect(description).toEqual({
      status: 'COMPLETED',
      manifest: {
        transactionTime: '2024-05-01T10:00:00.000Z',
        output: [
          { type: 'Observation', url: `s3://exports/${FOLDER}Observation/Observation-0.ndjson` },
          { type: 'Patient', url: `s3://exports/${FOLDER}Patient/Patient-0.ndjson` },
        ],
        deleted: [],
        error: [],
      },
    });
  });

  it('keeps a transactionTime that is there and lists only for the missing output[]', async () => {
    const store = storeWith(`${FOLDER}Patient/Patient-0.ndjson`);
    const source = sourceAnswering(
      {
        transactionTime: '2024-05-01T10:00:01.500Z',
        exportJobProperties: {
          jobStatus: 'COMPLETED',
          submitTime: 'May 1, 2024 10:00:00 AM',
          outputDataConfig: { s3Configuration: { s3Uri: `s3://exports/${FOLDER}` } },
        },
      },
      store,
    );
    const { manifest } = await source.describeExport({ jobId: 'j1' });
    expect(manifest?.transactionTime).toBe('2024-05-01T10:00:01.500Z');
    expect(manifest?.output).toEqual([{ type: 'Patient', url: `s3://exports/${FOLDER}Patient/Patient-0.ndjson` }]);
  });

  it('keeps an output[] that is there (no listing) and only fills transactionTime', async () => {
    const buckets: string[] = [];
    const source = sourceAnswering(
      {
        exportJobProperties: { jobStatus: 'COMPLETED', submitTime: '2024-05-01T10:00:00.000Z' },
        output: [{ type: 'Patient', url: 's3://exports/x/Patient/Patient-0.ndjson' }],
        error: [],
      },
      new MemoryObjectStore(),
      buckets,
    );
    const { manifest } = await source.describeExport({ jobId: 'j1' });
    expect(buckets).toEqual([]);
    expect(manifest).toEqual({
      transactionTime: '2024-05-01T10:00:00.000Z',
      output: [{ type: 'Patient', url: 's3://exports/x/Patient/Patient-0.ndjson' }],
      deleted: [],
      error: [],
    });
  });

  it('leaves answers of jobs that have not completed untouched (no listing)', async () => {
    const body = { exportJobProperties: { jobStatus: 'FAILED', submitTime: '2024-05-01T10:00:00.000Z' } };
    expect(await completeSparseStatus(body, { jobId: 'j1', outputS3Uri: 's3://b' })).toBe(body);
  });
});

function fakeClient(send: (command: { input: unknown; constructor: { name: string } }) => unknown): {
  client: HealthLakeClient;
  datastoreId: string;
} {
  return {
    client: { send: async (command: never) => send(command) } as unknown as HealthLakeClient,
    datastoreId: 'ds1',
  };
}

function awsError(name: string, httpStatusCode?: number): Error {
  return Object.assign(new Error('server text'), {
    name,
    ...(httpStatusCode ? { $metadata: { httpStatusCode } } : {}),
  });
}

describe('control plane: StartFHIRExportJob / DescribeFHIRExportJob', () => {
  it('starts with a ClientToken derived from the run id, and builds the manifest from DescribeFHIRExportJob + listing', async () => {
    const sent: Array<{ name: string; input: Record<string, unknown> }> = [];
    const control = fakeClient((command) => {
      sent.push({ name: command.constructor.name, input: command.input as Record<string, unknown> });
      if (command.constructor.name === 'ListFHIRExportJobsCommand') return { ExportJobPropertiesList: [] };
      if (command.constructor.name === 'StartFHIRExportJobCommand') return { JobId: 'j1', JobStatus: 'SUBMITTED' };
      return {
        ExportJobProperties: {
          JobId: 'j1',
          JobStatus: 'COMPLETED',
          SubmitTime: new Date('2024-05-01T10:00:00.250Z'),
          DatastoreId: 'ds1',
          OutputDataConfig: { S3Configuration: { S3Uri: 's3://exports/fhir' } },
        },
      };
    });
    const source = new HealthLakeExportSource({
      fhirBaseUrl: BASE,
      fetch: async () => {
        throw new Error('no REST call expected');
      },
      outputS3Uri: 's3://exports/fhir',
      dataAccessRoleArn: 'arn:aws:iam::123456789012:role/export',
      registry: new InMemoryJobRegistry(),
      control,
      api: 'control-plane',
      exportStore: () => storeWith(`${FOLDER}Patient/Patient-0.ndjson`),
    });
    const job = await source.startExport({ runId: 'run-1', since: '2024-04-01T00:00:00.000Z' });
    expect(job).toEqual({ jobId: 'j1', runId: 'run-1' });
    expect(sent[1]).toEqual({
      name: 'StartFHIRExportJobCommand',
      input: {
        DatastoreId: 'ds1',
        JobName: 'run-1',
        ClientToken: 'run-1',
        DataAccessRoleArn: 'arn:aws:iam::123456789012:role/export',
        OutputDataConfig: { S3Configuration: { S3Uri: 's3://exports/fhir', KmsKeyId: undefined } },
      },
    });
    // A retried start finds the recorded job.
    expect(await source.startExport({ runId: 'run-1', since: null })).toEqual(job);
    expect(sent).toHaveLength(2);

    const description = await source.describeExport(job);
    expect(description.manifest).toEqual({
      transactionTime: '2024-05-01T10:00:00.250Z',
      output: [{ type: 'Patient', url: `s3://exports/${FOLDER}Patient/Patient-0.ndjson` }],
      deleted: [],
      error: [],
    });
  });

  it('retries throttling, server errors and network failures; fails the start on a refusal', async () => {
    const request = { runId: 'r', jobName: 'r', outputS3Uri: 's3://b', dataAccessRoleArn: 'arn:aws:iam::1:role/x' };
    for (const error of [
      awsError('ThrottlingException', 400),
      awsError('InternalServerException', 500),
      new TypeError('fetch failed'),
    ]) {
      await expect(
        startControlPlaneExport(
          fakeClient(() => Promise.reject(error)),
          request,
        ),
      ).rejects.toBeInstanceOf(TransientExportError);
    }
    await expect(
      startControlPlaneExport(
        fakeClient(() => Promise.reject(awsError('ValidationException', 400))),
        request,
      ),
    ).rejects.toBeInstanceOf(ExportStartError);
    await expect(
      describeControlPlaneExport(
        fakeClient(() => Promise.reject(awsError('ThrottlingException', 400))),
        'j1',
      ),
    ).rejects.toBeInstanceOf(TransientExportError);
    const refused = describeControlPlaneExport(
      fakeClient(() => Promise.reject(awsError('AccessDeniedException', 403))),
      'j1',
    );
    await expect(refused).rejects.toMatchObject({ errorName: 'Export.StatusUnavailable' });
    await expect(refused).rejects.not.toBeInstanceOf(TransientExportError);
  });

  it('derives a valid ClientToken ([A-Za-z0-9-], at most 64) from any run id, the same each time', () => {
    expect(clientTokenOf('run-2024-05-01')).toBe('run-2024-05-01');
    const token = clientTokenOf('tributary:2024-05-01T10:00:00Z/with spaces');
    expect(token).toMatch(/^[A-Za-z0-9-]{1,64}$/);
    expect(clientTokenOf('tributary:2024-05-01T10:00:00Z/with spaces')).toBe(token);
  });

  it('refuses api control-plane without a control-plane client', () => {
    expect(
      () =>
        new HealthLakeExportSource({
          fhirBaseUrl: BASE,
          fetch: async () => new Response(),
          outputS3Uri: 's3://b',
          registry: new InMemoryJobRegistry(),
          api: 'control-plane',
        }),
    ).toThrow(TypeError);
  });
});
