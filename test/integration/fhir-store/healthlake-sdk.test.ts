import {
  DescribeFHIRDatastoreCommand,
  DescribeFHIRExportJobCommand,
  HealthLakeClient,
  ListFHIRDatastoresCommand,
  ListFHIRExportJobsCommand,
  ResourceNotFoundException,
  StartFHIRExportJobCommand,
  ValidationException,
} from '@aws-sdk/client-healthlake';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patient, readNdjson, startHarness, type Harness, type Json } from './harness.js';

let h: Harness;
let client: HealthLakeClient;
const output = {
  S3Configuration: { S3Uri: 's3://hl-exports/out', KmsKeyId: 'arn:aws:kms:us-east-1:000000000000:key/local' },
};
const role = 'arn:aws:iam::000000000000:role/healthlake-export';

beforeAll(async () => {
  h = await startHarness();
  client = new HealthLakeClient({
    endpoint: h.server.healthlakeEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  for (let i = 0; i < 3; i += 1) await h.request('POST', '/Patient', patient(`Sdk${i}`, 'X', '1990'));
});
afterAll(async () => {
  client.destroy();
  await h.close();
});

async function waitForJob(jobId: string): Promise<Json> {
  for (;;) {
    const { ExportJobProperties } = await client.send(
      new DescribeFHIRExportJobCommand({ DatastoreId: h.server.datastoreId, JobId: jobId }),
    );
    if (!['SUBMITTED', 'QUEUED', 'IN_PROGRESS'].includes(ExportJobProperties?.JobStatus ?? ''))
      return ExportJobProperties;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('HealthLake control plane with the unmodified AWS SDK', () => {
  it('describes and lists the datastore', async () => {
    const { DatastoreProperties } = await client.send(
      new DescribeFHIRDatastoreCommand({ DatastoreId: h.server.datastoreId }),
    );
    expect(DatastoreProperties).toMatchObject({
      DatastoreId: h.server.datastoreId,
      DatastoreStatus: 'ACTIVE',
      DatastoreTypeVersion: 'R4',
      DatastoreEndpoint: `${h.base}/`,
    });
    expect(DatastoreProperties?.CreatedAt).toBeInstanceOf(Date);
    expect(DatastoreProperties?.DatastoreArn).toBe(
      `arn:aws:healthlake:us-east-1:000000000000:datastore/fhir/${h.server.datastoreId}`,
    );
    const list = await client.send(new ListFHIRDatastoresCommand({}));
    expect(list.DatastorePropertiesList?.map((d) => d.DatastoreId)).toEqual([h.server.datastoreId]);
    const filtered = await client.send(new ListFHIRDatastoresCommand({ Filter: { DatastoreStatus: 'DELETED' } }));
    expect(filtered.DatastorePropertiesList).toEqual([]);
  });

  it('starts an export (idempotent on ClientToken), describes it and lists it', async () => {
    const input = {
      DatastoreId: h.server.datastoreId,
      JobName: 'sdk-job',
      OutputDataConfig: output,
      DataAccessRoleArn: role,
      ClientToken: 'token-1',
    };
    const started = await client.send(new StartFHIRExportJobCommand(input));
    expect(started.JobStatus).toBe('SUBMITTED');
    expect(started.DatastoreId).toBe(h.server.datastoreId);
    const again = await client.send(new StartFHIRExportJobCommand(input));
    expect(again.JobId).toBe(started.JobId);
    const job = await waitForJob(started.JobId as string);
    expect(job).toMatchObject({
      JobId: started.JobId,
      JobName: 'sdk-job',
      JobStatus: 'COMPLETED',
      DatastoreId: h.server.datastoreId,
      DataAccessRoleArn: role,
    });
    expect(job.OutputDataConfig.S3Configuration).toEqual(output.S3Configuration);
    expect(job.SubmitTime).toBeInstanceOf(Date);
    expect(job.EndTime.getTime()).toBeGreaterThanOrEqual(job.SubmitTime.getTime() - 1000);
    // The files land where HealthLake puts them, and the REST status endpoint shows the same job.
    const manifest = (await h.request('GET', `/export/${started.JobId}`)).json;
    const key = manifest.output[0].extension.tributary.key as string;
    expect(key).toBe(`out/${h.server.datastoreId}-FHIR_EXPORT-${started.JobId}/Patient/Patient-1.ndjson`);
    expect(await readNdjson(h.bucket('hl-exports'), key)).toHaveLength(3);

    const other = await client.send(
      new StartFHIRExportJobCommand({ ...input, ClientToken: 'token-2', JobName: 'other' }),
    );
    await waitForJob(other.JobId as string);
    const all = await client.send(new ListFHIRExportJobsCommand({ DatastoreId: h.server.datastoreId }));
    expect(all.ExportJobPropertiesList?.map((j) => j.JobId)).toEqual([other.JobId, started.JobId]);
    const byName = await client.send(
      new ListFHIRExportJobsCommand({ DatastoreId: h.server.datastoreId, JobName: 'sdk-job' }),
    );
    expect(byName.ExportJobPropertiesList?.map((j) => j.JobId)).toEqual([started.JobId]);
    const page = await client.send(new ListFHIRExportJobsCommand({ DatastoreId: h.server.datastoreId, MaxResults: 1 }));
    expect(page.ExportJobPropertiesList).toHaveLength(1);
    const nextPage = await client.send(
      new ListFHIRExportJobsCommand({ DatastoreId: h.server.datastoreId, MaxResults: 1, NextToken: page.NextToken }),
    );
    expect(nextPage.ExportJobPropertiesList?.[0]?.JobId).toBe(started.JobId);
    expect(nextPage.NextToken).toBeUndefined();
    const failedOnly = await client.send(
      new ListFHIRExportJobsCommand({ DatastoreId: h.server.datastoreId, JobStatus: 'FAILED' }),
    );
    expect(failedOnly.ExportJobPropertiesList).toEqual([]);
  });

  it('reports a FAILED job with its message', async () => {
    h.server.exportFaults.failNextExport = 'injected for the SDK test';
    const started = await client.send(
      new StartFHIRExportJobCommand({
        DatastoreId: h.server.datastoreId,
        OutputDataConfig: output,
        DataAccessRoleArn: role,
      }),
    );
    const job = await waitForJob(started.JobId as string);
    expect(job).toMatchObject({ JobStatus: 'FAILED', Message: 'injected for the SDK test' });
  });

  it('answers errors in the AWS JSON shape the SDK understands', async () => {
    await expect(client.send(new DescribeFHIRDatastoreCommand({ DatastoreId: 'f'.repeat(32) }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
    await expect(
      client.send(new DescribeFHIRExportJobCommand({ DatastoreId: h.server.datastoreId, JobId: 'a'.repeat(32) })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(
      client.send(
        new StartFHIRExportJobCommand({
          DatastoreId: h.server.datastoreId,
          OutputDataConfig: { S3Configuration: { S3Uri: 'not-s3', KmsKeyId: 'k' } },
          DataAccessRoleArn: role,
        }),
      ),
    ).rejects.toBeInstanceOf(ValidationException);
    await expect(
      client.send(
        new StartFHIRExportJobCommand({
          DatastoreId: h.server.datastoreId,
          OutputDataConfig: output,
          DataAccessRoleArn: 'nope',
        }),
      ),
    ).rejects.toBeInstanceOf(ValidationException);
  });
});
