import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const sqs = mockClient(SQSClient);
const sfn = mockClient(SFNClient);
const s3 = mockClient(S3Client);
const ddb = mockClient(DynamoDBDocumentClient);

const FHIR_BASE = 'https://healthlake.eu-west-2.amazonaws.com/datastore/abc123/r4';
const ENV = {
  AWS_REGION: 'eu-west-2',
  AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'secret',
  FHIR_BASE_URL: FHIR_BASE,
  EXPORT_OUTPUT_S3_URI: 's3://tributary-exports/fhir/',
  EXPORT_KMS_KEY_ID: 'arn:aws:kms:eu-west-2:1:key/k',
  DATA_ACCESS_ROLE_ARN: 'arn:aws:iam::1:role/healthlake-export',
  EXPORT_BUCKET: 'tributary-exports',
  LEDGER_TABLE: 'tributary-ledger',
  RECHECK_QUEUE_URL: 'https://sqs.eu-west-2.amazonaws.com/1/recheck',
  INITIAL_CHECK_DELAY_SECONDS: '15',
  MAX_CHECK_DELAY_SECONDS: '120',
  COMPLETED_WITH_ERRORS: 'fail',
  POWERTOOLS_TRACE_ENABLED: 'false',
  POWERTOOLS_METRICS_DISABLED: 'true',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
};

const sqsEvent = (body: unknown): SQSEvent => ({
  Records: [{ messageId: 'm1', body: JSON.stringify(body) } as SQSEvent['Records'][number]],
});
const fetchMock = vi.fn<(url: string, init?: RequestInit) => Promise<Response>>();

async function loadHandler(name: 'start-export' | 'check-export', env: Record<string, string> = {}) {
  vi.resetModules();
  for (const [key, value] of Object.entries({ ...ENV, ...env })) vi.stubEnv(key, value);
  const loaded =
    name === 'start-export'
      ? await import('../../../src/handlers/start-export.js')
      : await import('../../../src/handlers/check-export.js');
  return loaded as { handler: (event: SQSEvent) => Promise<{ batchItemFailures: Array<{ itemIdentifier: string }> }> };
}

const headersOf = (init?: RequestInit) => new Headers(init?.headers);

describe('start-export / check-export handlers', () => {
  beforeEach(() => {
    sqs.reset();
    sfn.reset();
    s3.reset();
    ddb.reset();
    fetchMock.mockReset();
    vi.stubGlobal('fetch', fetchMock);
    ddb.on(GetCommand).resolves({});
    ddb.on(PutCommand).resolves({});
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.unstubAllEnvs();
  });

  it('start-export: POSTs a SigV4-signed $export with _since and JobName=runId, records the job, queues a recheck with DelaySeconds', async () => {
    fetchMock.mockResolvedValue(
      new Response(null, { status: 202, headers: { 'content-location': `${FHIR_BASE}/export/job-42` } }),
    );
    const { handler } = await loadHandler('start-export');
    const out = await handler(
      sqsEvent({ taskToken: 'T1', runId: 'run-7', since: '2024-01-02T03:04:05.678Z', executionArn: 'arn:x:run-7' }),
    );

    expect(out.batchItemFailures).toEqual([]);
    const [url, init] = fetchMock.mock.calls[0]!;
    expect(url).toBe(`${FHIR_BASE}/$export?_since=2024-01-02T03%3A04%3A05.678Z`);
    expect(init?.method).toBe('POST');
    const auth = headersOf(init).get('authorization')!;
    expect(auth).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-2\/healthlake\/aws4_request, SignedHeaders=[^,]*host[^,]*, Signature=[0-9a-f]{64}$/,
    );
    expect(headersOf(init).get('x-amz-date')).toMatch(/^\d{8}T\d{6}Z$/);
    expect(JSON.parse(String(init?.body))).toEqual({
      JobName: 'run-7',
      OutputDataConfig: {
        S3Configuration: { S3Uri: 's3://tributary-exports/fhir/', KmsKeyId: 'arn:aws:kms:eu-west-2:1:key/k' },
      },
      DataAccessRoleArn: 'arn:aws:iam::1:role/healthlake-export',
    });
    expect(
      ddb
        .commandCalls(PutCommand)
        .some((c) => c.args[0].input.Item?.pk === 'JOB' && c.args[0].input.Item?.jobId === 'job-42'),
    ).toBe(true);
    const sent = sqs.commandCalls(SendMessageCommand)[0]!.args[0].input;
    expect(sent.QueueUrl).toBe(ENV.RECHECK_QUEUE_URL);
    expect(sent.DelaySeconds).toBe(15);
    expect(JSON.parse(sent.MessageBody!)).toMatchObject({
      taskToken: 'T1',
      runId: 'run-7',
      jobId: 'job-42',
      attempt: 0,
    });
    expect(sfn.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
  });

  it('start-export: a first run (since=null) has no _since; a known job is reused (idempotent on runId)', async () => {
    ddb
      .on(GetCommand, { Key: { pk: 'JOB', sk: 'run-8' } })
      .resolves({ Item: { pk: 'JOB', sk: 'run-8', jobId: 'job-old', statusUrl: `${FHIR_BASE}/export/job-old` } });
    const { handler } = await loadHandler('start-export');
    await handler(sqsEvent({ taskToken: 'T1', runId: 'run-8', since: null, executionArn: 'arn:x' }));
    expect(fetchMock).not.toHaveBeenCalled();
    expect(JSON.parse(sqs.commandCalls(SendMessageCommand)[0]!.args[0].input.MessageBody!).jobId).toBe('job-old');

    fetchMock.mockResolvedValue(
      new Response(null, { status: 202, headers: { 'content-location': `${FHIR_BASE}/export/j9` } }),
    );
    await handler(sqsEvent({ taskToken: 'T2', runId: 'run-9', since: null, executionArn: 'arn:x' }));
    expect(fetchMock.mock.calls[0]![0]).toBe(`${FHIR_BASE}/$export`);
  });

  it('start-export: a refused kick-off becomes SendTaskFailure(Export.StartFailed) instead of a DLQ', async () => {
    fetchMock.mockResolvedValue(
      new Response(
        JSON.stringify({
          resourceType: 'OperationOutcome',
          issue: [{ code: 'forbidden', diagnostics: 'not authorised' }],
        }),
        { status: 403 },
      ),
    );
    const { handler } = await loadHandler('start-export');
    const out = await handler(sqsEvent({ taskToken: 'T1', runId: 'run-7', since: null, executionArn: 'arn:x' }));
    expect(out.batchItemFailures).toEqual([]);
    expect(sfn.commandCalls(SendTaskFailureCommand)[0]!.args[0].input).toEqual({
      taskToken: 'T1',
      error: 'Export.StartFailed',
      cause: `export kick-off POST ${FHIR_BASE}/$export answered HTTP 403: not authorised`,
    });
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
  });

  it('start-export: when even SendTaskFailure fails, the record is reported for redelivery', async () => {
    fetchMock.mockResolvedValue(new Response('{}', { status: 400 }));
    sfn.on(SendTaskFailureCommand).rejects(Object.assign(new Error('throttled'), { name: 'ThrottlingException' }));
    const { handler } = await loadHandler('start-export');
    expect(
      (await handler(sqsEvent({ taskToken: 'T1', runId: 'r', since: null, executionArn: 'a' }))).batchItemFailures,
    ).toEqual([{ itemIdentifier: 'm1' }]);
  });

  const recheck = {
    taskToken: 'T1',
    runId: 'run-7',
    jobId: 'job-42',
    statusUrl: `${FHIR_BASE}/export/job-42`,
    attempt: 1,
    firstCheckAt: new Date().toISOString(),
  };

  it('check-export: IN_PROGRESS -> signed GET, SendTaskHeartbeat, requeue with DelaySeconds honouring Retry-After', async () => {
    fetchMock.mockResolvedValue(
      new Response(JSON.stringify({ exportJobProperties: { jobStatus: 'IN_PROGRESS' } }), {
        status: 202,
        headers: { 'retry-after': '90' },
      }),
    );
    const { handler } = await loadHandler('check-export');
    await handler(sqsEvent(recheck));
    expect(headersOf(fetchMock.mock.calls[0]![1]).get('authorization')).toContain('/eu-west-2/healthlake/aws4_request');
    expect(sfn.commandCalls(SendTaskHeartbeatCommand)[0]!.args[0].input).toEqual({ taskToken: 'T1' });
    const sent = sqs.commandCalls(SendMessageCommand)[0]!.args[0].input;
    expect(sent.DelaySeconds).toBe(90);
    expect(JSON.parse(sent.MessageBody!).attempt).toBe(2);
  });

  it('check-export: COMPLETED -> manifest PutObject (JSON array) then SendTaskSuccess', async () => {
    const manifest = {
      transactionTime: '2024-05-05T05:05:05.000Z',
      request: `${FHIR_BASE}/$export`,
      requiresAccessToken: false,
      output: [
        { type: 'Patient', url: 's3://tributary-exports/fhir/abc123-FHIR_EXPORT-job-42/Patient/Patient-0-0-0.ndjson' },
      ],
      error: [],
      exportJobProperties: { jobId: 'job-42', jobStatus: 'COMPLETED' },
    };
    fetchMock.mockResolvedValue(new Response(JSON.stringify(manifest), { status: 200 }));
    const { handler } = await loadHandler('check-export');
    await handler(sqsEvent(recheck));
    const put = s3.commandCalls(PutObjectCommand)[0]!.args[0].input;
    expect(put.Bucket).toBe('tributary-exports');
    expect(put.Key).toBe('manifests/run-7/job-42/manifest.json');
    expect(JSON.parse(String(put.Body))).toEqual([
      {
        bucket: 'tributary-exports',
        key: 'fhir/abc123-FHIR_EXPORT-job-42/Patient/Patient-0-0-0.ndjson',
        type: 'Patient',
        kind: 'output',
      },
    ]);
    expect(put.SSEKMSKeyId).toBe(ENV.EXPORT_KMS_KEY_ID);
    const success = sfn.commandCalls(SendTaskSuccessCommand)[0]!.args[0].input;
    expect(JSON.parse(success.output!)).toEqual({
      bucket: 'tributary-exports',
      manifestKey: 'manifests/run-7/job-42/manifest.json',
      transactionTime: '2024-05-05T05:05:05.000Z',
      jobId: 'job-42',
      exportErrors: [],
    });
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
  });

  it('check-export: FAILED, CANCEL_COMPLETED and COMPLETED_WITH_ERRORS (policy fail / continue)', async () => {
    const { handler } = await loadHandler('check-export');
    fetchMock.mockResolvedValueOnce(
      new Response(
        JSON.stringify({
          resourceType: 'OperationOutcome',
          issue: [{ code: 'exception', diagnostics: 'job failed' }],
          exportJobProperties: { jobStatus: 'FAILED' },
        }),
        { status: 500 },
      ),
    );
    await handler(sqsEvent(recheck));
    fetchMock.mockResolvedValueOnce(
      new Response(JSON.stringify({ exportJobProperties: { jobStatus: 'CANCEL_COMPLETED' } }), { status: 200 }),
    );
    await handler(sqsEvent(recheck));
    const withErrors = {
      transactionTime: '2024-05-05T05:05:05Z',
      output: [],
      error: [{ type: 'OperationOutcome', url: 's3://tributary-exports/e/OperationOutcome-1.ndjson' }],
    };
    fetchMock.mockResolvedValueOnce(new Response(JSON.stringify(withErrors), { status: 200 }));
    await handler(sqsEvent(recheck));
    expect(sfn.commandCalls(SendTaskFailureCommand).map((c) => c.args[0].input.error)).toEqual([
      'Export.JobFailed',
      'Export.JobCancelled',
      'Export.CompletedWithErrors',
    ]);

    const continuing = await loadHandler('check-export', { COMPLETED_WITH_ERRORS: 'continue' });
    fetchMock.mockResolvedValueOnce(new Response(JSON.stringify(withErrors), { status: 200 }));
    await continuing.handler(sqsEvent(recheck));
    expect(JSON.parse(sfn.commandCalls(SendTaskSuccessCommand)[0]!.args[0].input.output!).exportErrors).toEqual([
      { type: 'OperationOutcome', bucket: 'tributary-exports', key: 'e/OperationOutcome-1.ndjson' },
    ]);
  });

  it('check-export: past MAX_WAIT_SECONDS -> SendTaskFailure(Export.MaxWaitExceeded)', async () => {
    fetchMock.mockImplementation(async () => new Response(null, { status: 202 }));
    const { handler } = await loadHandler('check-export', { MAX_WAIT_SECONDS: '60' });
    await handler(sqsEvent({ ...recheck, firstCheckAt: new Date(Date.now() - 120_000).toISOString() }));
    expect(sfn.commandCalls(SendTaskFailureCommand)[0]!.args[0].input.error).toBe('Export.MaxWaitExceeded');
    expect(sfn.commandCalls(SendTaskHeartbeatCommand)).toHaveLength(0);
  });

  it("check-export: the run ledger's cancel message -> signed DELETE on the status URL, no Step Functions call, nothing requeued", async () => {
    fetchMock.mockResolvedValue(new Response(null, { status: 202 }));
    const { handler } = await loadHandler('check-export');
    const out = await handler(
      sqsEvent({ action: 'cancel', runId: 'run-7', jobId: 'job-42', statusUrl: `${FHIR_BASE}/export/job-42` }),
    );
    expect(out).toEqual({ batchItemFailures: [] });
    expect(fetchMock.mock.calls.map(([url, init]) => [url, init?.method])).toEqual([
      [`${FHIR_BASE}/export/job-42`, 'DELETE'],
    ]);
    expect(headersOf(fetchMock.mock.calls[0]![1]).get('authorization')).toContain('/eu-west-2/healthlake/aws4_request');
    expect(sfn.calls()).toEqual([]);
    expect(sqs.calls()).toEqual([]);
  });

  it('check-export: a cancel that fails (network) is done: no batch item failure, so the message is not redelivered', async () => {
    fetchMock.mockRejectedValue(new TypeError('fetch failed'));
    const { handler } = await loadHandler('check-export');
    const out = await handler(sqsEvent({ action: 'cancel', runId: 'run-7', jobId: 'job-42' }));
    expect(out).toEqual({ batchItemFailures: [] });
    expect(fetchMock.mock.calls.map(([url, init]) => [url, init?.method])).toEqual([
      [`${FHIR_BASE}/export/job-42`, 'DELETE'],
    ]);
    expect(sfn.calls()).toEqual([]);
  });

  it('refuses to load with an invalid environment, naming the variable', async () => {
    vi.resetModules();
    for (const [key, value] of Object.entries({ ...ENV, RECHECK_QUEUE_URL: 'not a url' })) vi.stubEnv(key, value);
    await expect(import('../../../src/handlers/check-export.js')).rejects.toThrow(/RECHECK_QUEUE_URL/);
  });
});
