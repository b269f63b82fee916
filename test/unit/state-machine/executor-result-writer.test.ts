import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { S3_GET_OBJECT, S3_PUT_OBJECT, validateDefinition } from '../../../src/local/state-machine/index.js';
import { Harness, namedError } from './harness.js';

// AWS "ResultWriter (Map)": results exported to S3 as <Prefix>/<map run id>/{manifest.json, SUCCEEDED_n.json, FAILED_n.json};
// the Map returns {MapRunArn, ResultWriterDetails: {Bucket, Key}}. AWS "Quotas": 256 KiB payload, States.DataLimitExceeded.
const FN = 'arn:aws:lambda:us-east-1:123456789012:function:ProcessFile';

const mapWith = (extra: Record<string, unknown> = {}) => ({
  StartAt: 'Map',
  States: {
    Map: {
      Type: 'Map',
      ItemReader: {
        Resource: S3_GET_OBJECT,
        ReaderConfig: { InputType: 'JSON' },
        Parameters: { 'Bucket.$': '$.bucket', Key: 'items.json' },
      },
      ItemSelector: { 'n.$': '$$.Map.Item.Value' },
      MaxConcurrency: 4,
      ItemProcessor: {
        ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
        StartAt: 'Process',
        States: { Process: { Type: 'Task', Resource: FN, End: true } },
      },
      ResultPath: '$.processed',
      End: true,
      ...extra,
    },
  },
});

/** The Map, its errors caught into `$.error`, then a Pass. */
const caught = (extra: Record<string, unknown>) => {
  const definition = mapWith({
    ...extra,
    Next: 'Done',
    Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Done' }],
  });
  delete (definition.States.Map as Record<string, unknown>).End;
  return { ...definition, States: { ...definition.States, Done: { Type: 'Pass', End: true } } };
};

const writer = {
  ResultWriter: {
    Resource: S3_PUT_OBJECT,
    Parameters: { 'Bucket.$': '$.bucket', Prefix: 'results/' },
  },
  ResultSelector: { 'Bucket.$': '$.ResultWriterDetails.Bucket', 'Key.$': '$.ResultWriterDetails.Key' },
};

/** An in-memory bucket behind the s3:getObject / s3:putObject handlers. */
function bucket(items: unknown[]) {
  const objects = new Map<string, string>([['b/items.json', JSON.stringify(items)]]);
  return {
    objects,
    json: (bucketName: string, key: string) => JSON.parse(objects.get(`${bucketName}/${key}`)!) as unknown,
    handlers: {
      [S3_GET_OBJECT]: async (p: unknown) => {
        const { Bucket, Key } = p as { Bucket: string; Key: string };
        return objects.get(`${Bucket}/${Key}`);
      },
      [S3_PUT_OBJECT]: async (p: unknown) => {
        const { Bucket, Key, Body } = p as { Bucket: string; Key: string; Body: string };
        objects.set(`${Bucket}/${Key}`, Body);
        return { ETag: '"x"' };
      },
    },
  };
}

type Manifest = {
  DestinationBucket: string;
  MapRunArn: string;
  ResultFiles: Record<'SUCCEEDED' | 'FAILED' | 'PENDING', Array<{ Key: string; Size: number }>>;
};
type Entry = {
  Name: string;
  ExecutionArn: string;
  Status: string;
  Input: string;
  Output?: string;
  Error?: string;
  Cause?: string;
};

let h: Harness;
beforeEach(() => {
  h = new Harness();
});
afterEach(async () => {
  await h.cleanup();
});

describe('Distributed Map ResultWriter', () => {
  it('writes SUCCEEDED/FAILED files and manifest.json as AWS does; the Map returns only their location', async () => {
    const s3 = bucket(Array.from({ length: 10 }, (_, i) => i));
    const exec = h.create(mapWith({ ...writer, ToleratedFailureCount: 2 }), {
      ...s3.handlers,
      [FN]: async (p) => {
        const { n } = p as { n: number };
        if (n === 3) throw namedError('Export.FileFailed', 'file 3 is broken');
        return { n, doubled: n * 2 };
      },
    });
    const d = await h.run(exec, { bucket: 'b' }, 'rw');
    expect(d.status).toBe('SUCCEEDED');
    const { processed } = d.output as { processed: { Bucket: string; Key: string } };
    expect(processed.Bucket).toBe('b');
    expect(processed.Key).toMatch(
      /^results\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\/manifest\.json$/,
    );

    const manifest = s3.json('b', processed.Key) as Manifest;
    const folder = processed.Key.replace(/manifest\.json$/, '');
    expect(manifest.DestinationBucket).toBe('b');
    expect(manifest.MapRunArn).toMatch(/^arn:aws:states:us-east-1:000000000000:mapRun:local\/Map:/);
    expect(manifest.ResultFiles.PENDING).toEqual([]);
    expect(manifest.ResultFiles.SUCCEEDED.map((f) => f.Key)).toEqual([`${folder}SUCCEEDED_0.json`]);
    expect(manifest.ResultFiles.FAILED.map((f) => f.Key)).toEqual([`${folder}FAILED_0.json`]);
    for (const file of [...manifest.ResultFiles.SUCCEEDED, ...manifest.ResultFiles.FAILED])
      expect(Buffer.byteLength(s3.objects.get(`b/${file.Key}`)!)).toBe(file.Size);

    const succeeded = s3.json('b', `${folder}SUCCEEDED_0.json`) as Entry[];
    expect(succeeded).toHaveLength(9);
    expect(succeeded[0]).toMatchObject({ Name: 'rw-Map-0', Status: 'SUCCEEDED', Input: '{"n":0}' });
    expect(JSON.parse(succeeded[3]!.Output!)).toEqual({ n: 4, doubled: 8 }); // item 3 failed
    const failed = s3.json('b', `${folder}FAILED_0.json`) as Entry[];
    expect(failed).toEqual([
      expect.objectContaining({
        Name: 'rw-Map-3',
        Status: 'FAILED',
        Input: '{"n":3}',
        Error: 'Export.FileFailed',
        Cause: 'file 3 is broken',
      }),
    ]);
    expect(failed[0]).not.toHaveProperty('Output');
  });

  it('starts a new SUCCEEDED_n.json file when one reaches resultFileBytes', async () => {
    const s3 = bucket(Array.from({ length: 50 }, (_, i) => i));
    const exec = h.create(
      mapWith(writer),
      { ...s3.handlers, [FN]: async (p) => ({ n: (p as { n: number }).n }) },
      { resultFileBytes: 2_000 },
    );
    const d = await h.run(exec, { bucket: 'b' });
    const { processed } = d.output as { processed: { Key: string } };
    const files = (s3.json('b', processed.Key) as Manifest).ResultFiles.SUCCEEDED;
    expect(files.length).toBeGreaterThan(2);
    files.forEach((f, i) => expect(f.Key.endsWith(`/SUCCEEDED_${i}.json`)).toBe(true));
    const all = files.flatMap((f) => s3.json('b', f.Key) as Entry[]).map((e) => JSON.parse(e.Output!) as { n: number });
    expect(all.map((o) => o.n)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    for (const f of files.slice(0, -1)) expect(f.Size).toBeLessThanOrEqual(2_000);
  });

  it('fails the Map with States.ResultWriterFailed (catchable) when the write fails', async () => {
    const s3 = bucket([1, 2]);
    const exec = h.create(caught(writer), {
      ...s3.handlers,
      [S3_PUT_OBJECT]: async () => {
        throw namedError('S3.AccessDenied', 'no write');
      },
      [FN]: async (p) => p,
    });
    const d = await h.run(exec, { bucket: 'b' });
    expect(d.status).toBe('SUCCEEDED');
    expect((d.output as { error: { Error: string; Cause: string } }).error).toEqual({
      Error: 'States.ResultWriterFailed',
      Cause: "ResultWriter of 'Map' failed: S3.AccessDenied: no write",
    });
  });

  it('is validated strictly: a putObject handler must be bound, WriterConfig and other parameters are refused', () => {
    const problems = validateDefinition(
      mapWith({
        ResultWriter: {
          Resource: S3_PUT_OBJECT,
          Parameters: { Bucket: 'b', Acl: 'x' },
          WriterConfig: { Transformation: 'COMPACT', OutputType: 'JSON' },
        },
      }),
      [S3_GET_OBJECT, FN],
    ).map((p) => `${p.path}: ${p.message}`);
    expect(problems).toEqual([
      expect.stringMatching(/^States\.Map\.ResultWriter\.WriterConfig: WriterConfig is not supported/),
      `States.Map.ResultWriter.Resource: no handler is bound for resource '${S3_PUT_OBJECT}'`,
      "States.Map.ResultWriter.Parameters.Acl: ResultWriter parameter 'Acl' is not supported (only Bucket and Prefix)",
    ]);
    expect(validateDefinition(mapWith(writer), [S3_GET_OBJECT, S3_PUT_OBJECT, FN])).toEqual([]);
  });
});

describe('payload quota (States.DataLimitExceeded)', () => {
  it('a Distributed Map over 2,000 items without ResultWriter fails the execution, past any Catch', async () => {
    const s3 = bucket(Array.from({ length: 2_000 }, (_, i) => i));
    // ~200 bytes per child output: a process-file result's size.
    const result = { type: 'Patient', kind: 'output', key: 'exports/job/Patient-0000.ndjson', resources: 1 };
    const exec = h.create(caught({ MaxConcurrency: 50 }), {
      ...s3.handlers,
      [FN]: async () => ({ ...result, padding: 'x'.repeat(100) }),
    });
    const d = await h.run(exec, { bucket: 'b' });
    expect(d.status).toBe('FAILED');
    expect(d.error).toBe('States.DataLimitExceeded');
    expect(d.cause).toMatch(/^result of state 'Map' is \d+ bytes, over the 262144-byte payload quota$/);
  });

  it('the same Map with a ResultWriter stays far under the quota', async () => {
    const s3 = bucket(Array.from({ length: 2_000 }, (_, i) => i));
    const exec = h.create(mapWith({ ...writer, MaxConcurrency: 50 }), {
      ...s3.handlers,
      [FN]: async () => ({ padding: 'x'.repeat(150) }),
    });
    const d = await h.run(exec, { bucket: 'b' });
    expect(d.status).toBe('SUCCEEDED');
    expect(JSON.stringify(d.output).length).toBeLessThan(200);
  });

  it('a task input over the quota (after Parameters) fails with States.DataLimitExceeded', async () => {
    const exec = h.create(
      {
        StartAt: 'T',
        States: { T: { Type: 'Task', Resource: FN, Parameters: { 'big.$': '$.big' }, End: true } },
      },
      { [FN]: async () => 'never' },
      { maxPayloadBytes: 1_000 },
    );
    const d = await h.run(exec, { big: 'x'.repeat(900) });
    expect(d.status).toBe('SUCCEEDED');
    const over = await h.run(exec, { big: 'x'.repeat(1_000) });
    expect(over.status).toBe('FAILED');
    expect(over.error).toBe('States.DataLimitExceeded');
  });
});
