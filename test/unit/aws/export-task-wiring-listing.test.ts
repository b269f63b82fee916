import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeFHIRExportJobCommand,
  HealthLakeClient,
  ListFHIRExportJobsCommand,
  StartFHIRExportJobCommand,
} from '@aws-sdk/client-healthlake';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createExportStepDeps } from '../../../src/fhir-export/aws-export-task-wiring.js';
import { exportTaskEnvSchema, parseEnvironment } from '../../../src/fhir-export/export-task-env.js';

const s3 = mockClient(S3Client);
const healthlake = mockClient(HealthLakeClient);
const dynamodb = mockClient(DynamoDBDocumentClient);

const ENV = {
  AWS_REGION: 'eu-west-2',
  FHIR_BASE_URL: 'https://healthlake.eu-west-2.amazonaws.com/datastore/ds1/r4',
  DATASTORE_ID: 'ds1',
  EXPORT_OUTPUT_S3_URI: 's3://export-bucket/staging/',
  DATA_ACCESS_ROLE_ARN: 'arn:aws:iam::123456789012:role/healthlake-export',
  EXPORT_BUCKET: 'export-bucket',
  LEDGER_TABLE: 'ledger',
  RECHECK_QUEUE_URL: 'https://sqs.eu-west-2.amazonaws.com/123456789012/recheck',
};

function depsFor(extra: Record<string, string>) {
  const env = parseEnvironment(exportTaskEnvSchema, { ...ENV, ...extra });
  return createExportStepDeps(env, {
    sqs: new SQSClient({ region: 'eu-west-2' }),
    sfn: new SFNClient({ region: 'eu-west-2' }),
    s3: new S3Client({ region: 'eu-west-2' }),
    dynamodb: new DynamoDBClient({ region: 'eu-west-2' }),
    healthlake: new HealthLakeClient({ region: 'eu-west-2' }),
  });
}

describe('check-export Lambda wiring: HealthLake answers without output[]', () => {
  beforeEach(() => {
    s3.reset();
    healthlake.reset();
    dynamodb.reset();
    dynamodb.onAnyCommand().resolves({}); // the ledger: no job recorded yet for the run
  });

  it('with HEALTHLAKE_EXPORT_API=control-plane, describes with DescribeFHIRExportJob and lists the job folder in the export bucket', async () => {
    healthlake.on(DescribeFHIRExportJobCommand).resolves({
      ExportJobProperties: {
        JobId: 'j1',
        JobStatus: 'COMPLETED',
        SubmitTime: new Date('2024-05-01T10:00:00.250Z'),
        DatastoreId: 'ds1',
        OutputDataConfig: { S3Configuration: { S3Uri: 's3://export-bucket/staging/', KmsKeyId: 'k' } },
      },
    });
    s3.on(ListObjectsV2Command)
      .resolvesOnce({
        Contents: [{ Key: 'staging/ds1-FHIR_EXPORT-j1/Patient/Patient-0.ndjson', Size: 10 }],
        IsTruncated: true,
        NextContinuationToken: 'next',
      })
      .resolvesOnce({ Contents: [{ Key: 'staging/ds1-FHIR_EXPORT-j1/Patient/Patient-1.ndjson', Size: 10 }] });
    const { source } = depsFor({ HEALTHLAKE_EXPORT_API: 'control-plane' });

    const description = await source.describeExport({ jobId: 'j1' });

    expect(s3.commandCalls(ListObjectsV2Command).map((call) => call.args[0].input)).toEqual([
      { Bucket: 'export-bucket', Prefix: 'staging/ds1-FHIR_EXPORT-j1/' },
      { Bucket: 'export-bucket', Prefix: 'staging/ds1-FHIR_EXPORT-j1/', ContinuationToken: 'next' },
    ]);
    expect(description.manifest).toEqual({
      transactionTime: '2024-05-01T10:00:00.250Z',
      output: [
        { type: 'Patient', url: 's3://export-bucket/staging/ds1-FHIR_EXPORT-j1/Patient/Patient-0.ndjson' },
        { type: 'Patient', url: 's3://export-bucket/staging/ds1-FHIR_EXPORT-j1/Patient/Patient-1.ndjson' },
      ],
      deleted: [],
      error: [],
    });
  });

  it('starts with StartFHIRExportJob (role, KMS key, job name = run id) when HEALTHLAKE_EXPORT_API=control-plane', async () => {
    healthlake.on(ListFHIRExportJobsCommand).resolves({ ExportJobPropertiesList: [] });
    healthlake.on(StartFHIRExportJobCommand).resolves({ JobId: 'j9', JobStatus: 'SUBMITTED', DatastoreId: 'ds1' });
    const { source } = depsFor({ HEALTHLAKE_EXPORT_API: 'control-plane', EXPORT_KMS_KEY_ID: 'arn:aws:kms:k' });

    expect(await source.startExport({ runId: 'run-1', since: null })).toEqual({ jobId: 'j9', runId: 'run-1' });
    expect(healthlake.commandCalls(StartFHIRExportJobCommand)[0]!.args[0].input).toEqual({
      DatastoreId: 'ds1',
      JobName: 'run-1',
      ClientToken: 'run-1',
      DataAccessRoleArn: 'arn:aws:iam::123456789012:role/healthlake-export',
      OutputDataConfig: { S3Configuration: { S3Uri: 's3://export-bucket/staging/', KmsKeyId: 'arn:aws:kms:k' } },
    });
  });
});
