import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadWithEnv } from './lambda-test-env.js';

const s3 = mockClient(S3Client);

async function loadHandler() {
  const loaded = await loadWithEnv(
    { LAKE_BUCKET: 'tributary-lake', LAKE_PREFIX: 'lake/' },
    () => import('../../../src/handlers/process-file.js'),
  );
  return loaded.handler;
}

describe('process-file handler', () => {
  beforeEach(() => s3.reset());
  afterEach(() => vi.unstubAllEnvs());

  it('streams the exported object from S3 and writes gzip NDJSON to the lake bucket under fhir/<Type>/year=/month=/day=/', async () => {
    const body = '{"resourceType":"Patient","id":"p1","meta":{"lastUpdated":"2024-02-03T04:05:06Z"}}\n{bad\n';
    s3.on(GetObjectCommand).resolves({ Body: Readable.from([Buffer.from(body)]) as never });
    s3.on(PutObjectCommand).resolves({});
    const handler = await loadHandler();
    const result = await handler({
      item: {
        bucket: 'exports',
        key: 'fhir/ds-FHIR_EXPORT-j1/Patient/Patient-1.ndjson',
        type: 'Patient',
        kind: 'output',
        count: 2,
      },
      runId: 'run-1',
      jobId: 'j1',
      transactionTime: '2024-02-04T00:00:00Z',
    });
    expect(result).toMatchObject({ type: 'Patient', resources: 1, errors: 1, files: 2 });
    expect(s3.commandCalls(GetObjectCommand)[0]!.args[0].input).toEqual({
      Bucket: 'exports',
      Key: 'fhir/ds-FHIR_EXPORT-j1/Patient/Patient-1.ndjson',
    });
    const puts = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    const lakePut = puts.find((p) => p.Key!.startsWith('lake/fhir/'))!;
    expect(lakePut.Bucket).toBe('tributary-lake');
    expect(lakePut.Key).toMatch(
      /^lake\/fhir\/Patient\/year=2024\/month=02\/day=03\/\d{8}T\d{6}\.\d{3}Z_j1_Patient-1_[0-9a-f]{8}-0000\.ndjson\.gz$/,
    );
    expect(gunzipSync(lakePut.Body as Uint8Array).toString()).toBe(`${body.split('\n')[0]}\n`);
    expect(puts.some((p) => p.Key!.startsWith('lake/_errors/fhir-export/year=2024/month=02/day=04/'))).toBe(true);
  });

  it('rejects a malformed Map item with a named error', async () => {
    const handler = await loadHandler();
    await expect(handler({ item: { bucket: 'b' }, runId: 'r' })).rejects.toMatchObject({
      name: 'Export.InvalidMessage',
    });
  });
});
