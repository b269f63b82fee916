import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { S3_GET_OBJECT } from '../../../src/local/state-machine/index.js';
import { Harness, namedError } from './harness.js';

// AWS "Distributed Map state": ItemReader (s3:getObject, JSON), ToleratedFailure*, ItemBatcher, child executions.
const FN = 'arn:aws:lambda:us-east-1:123456789012:function:ProcessFile';
const distributed = (extra: Record<string, unknown> = {}, executionType = 'STANDARD') => ({
  StartAt: 'Map',
  States: {
    Map: {
      Type: 'Map',
      ItemReader: {
        Resource: S3_GET_OBJECT,
        ReaderConfig: { InputType: 'JSON' },
        Parameters: { 'Bucket.$': '$.bucket', 'Key.$': '$.manifest' },
      },
      ItemSelector: { 'file.$': '$$.Map.Item.Value', 'index.$': '$$.Map.Item.Index', 'run.$': '$.run' },
      MaxConcurrency: 3,
      ItemProcessor: {
        ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: executionType },
        StartAt: 'Process',
        States: {
          Process: {
            Type: 'Task',
            Resource: FN,
            Parameters: { 'file.$': '$.file', 'index.$': '$.index', 'run.$': '$.run', 'child.$': '$$.Execution.Name' },
            End: true,
          },
        },
      },
      ...extra,
      End: true,
    },
  },
});

let h: Harness;
beforeEach(() => {
  h = new Harness();
});
afterEach(async () => {
  await h.cleanup();
});

const manifest = Array.from({ length: 10 }, (_, i) => ({ type: 'Patient', url: `s3://b/export/Patient-${i}.ndjson` }));

describe('Distributed Map', () => {
  it('reads items with the bound s3:getObject handler and runs children with MaxConcurrency', async () => {
    const reads: unknown[] = [];
    let inFlight = 0;
    let peak = 0;
    const exec = h.create(distributed(), {
      [S3_GET_OBJECT]: async (p) => (reads.push(p), JSON.stringify(manifest)),
      [FN]: async (p) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((r) => setTimeout(r, 5));
        inFlight--;
        const { file, index, run, child } = p as { file: { url: string }; index: number; run: string; child: string };
        return { url: file.url, index, run, child };
      },
    });
    const d = await h.run(exec, { bucket: 'b', manifest: 'export/manifest.json', run: 'r1' }, 'dm');
    expect(reads).toEqual([{ Bucket: 'b', Key: 'export/manifest.json' }]);
    expect(d.status).toBe('SUCCEEDED');
    const out = d.output as Array<{ url: string; index: number; run: string; child: string }>;
    expect(out.map((o) => o.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(out[3]).toMatchObject({ url: 's3://b/export/Patient-3.ndjson', run: 'r1', child: 'dm-Map-3' });
    expect(peak).toBeLessThanOrEqual(3);
    const history = await exec.history(d.executionArn);
    expect(history.filter((e) => e.type === 'MapItemSucceeded')).toHaveLength(10);
    expect(history.find((e) => e.type === 'MapRunSucceeded')?.detail).toEqual({ succeeded: 10, failed: 0 });
  });

  it('tolerates failures up to ToleratedFailurePercentage and reports failed items as {Error, Cause}', async () => {
    const exec = h.create(distributed({ ToleratedFailurePercentage: 20 }, 'EXPRESS'), {
      [S3_GET_OBJECT]: async () => manifest,
      [FN]: async (p) => {
        const { index } = p as { index: number };
        if (index === 2 || index === 7) throw namedError('File.Corrupt', `file ${index}`);
        return index;
      },
    });
    const d = await h.run(exec, { bucket: 'b', manifest: 'm', run: 'r' });
    expect(d.status).toBe('SUCCEEDED');
    const out = d.output as unknown[];
    expect(out[1]).toBe(1);
    expect(out[2]).toEqual({ Error: 'File.Corrupt', Cause: 'file 2' });
  });

  it('fails with States.ExceedToleratedFailureThreshold over ToleratedFailureCount (catchable)', async () => {
    const def = distributed({
      ToleratedFailureCount: 1,
      Catch: [{ ErrorEquals: ['States.ExceedToleratedFailureThreshold'], ResultPath: '$.error', Next: 'Release' }],
    });
    (def.States.Map as Record<string, unknown>).End = undefined;
    delete (def.States.Map as Record<string, unknown>).End;
    (def.States.Map as Record<string, unknown>).Next = 'Done';
    Object.assign(def.States, { Done: { Type: 'Succeed' }, Release: { Type: 'Pass', Result: 'released', End: true } });
    const exec = h.create(def, {
      [S3_GET_OBJECT]: async () => manifest,
      [FN]: async (p) => {
        if ((p as { index: number }).index % 3 === 0) throw new Error('nope');
        return 'ok';
      },
    });
    const d = await h.run(exec, { bucket: 'b', manifest: 'm', run: 'r' });
    expect(d.output).toBe('released');
    expect((await exec.history(d.executionArn)).some((e) => e.type === 'MapRunFailed')).toBe(true);
  });

  it('with both thresholds, exceeding either fails the run (AWS tolerated failure threshold)', async () => {
    const exec = h.create(distributed({ ToleratedFailureCount: 5, ToleratedFailurePercentage: 10 }), {
      [S3_GET_OBJECT]: async () => manifest,
      [FN]: async (p) => {
        if ((p as { index: number }).index < 2) throw new Error('bad');
        return 'ok';
      },
    });
    expect((await h.run(exec, { bucket: 'b', manifest: 'm', run: 'r' })).error).toBe(
      'States.ExceedToleratedFailureThreshold',
    );
  });

  it('with no tolerance any failed child fails the run', async () => {
    const exec = h.create(distributed(), {
      [S3_GET_OBJECT]: async () => manifest.slice(0, 2),
      [FN]: async () => {
        throw new Error('x');
      },
    });
    expect((await h.run(exec, { bucket: 'b', manifest: 'm', run: 'r' })).error).toBe(
      'States.ExceedToleratedFailureThreshold',
    );
  });

  it('ItemBatcher groups items into {Items, ...BatchInput}', async () => {
    const seen: unknown[] = [];
    const def = distributed({
      ItemBatcher: { MaxItemsPerBatch: 4, BatchInput: { 'run.$': '$.run' } },
      ItemSelector: { 'url.$': '$$.Map.Item.Value.url' },
    });
    const processor = (def.States.Map as { ItemProcessor: { States: { Process: Record<string, unknown> } } })
      .ItemProcessor;
    processor.States.Process.Parameters = { 'items.$': '$.Items', 'run.$': '$.run' };
    const exec = h.create(def, {
      [S3_GET_OBJECT]: async () => manifest,
      [FN]: async (p) => (seen.push(p), (p as { items: unknown[] }).items.length),
    });
    const d = await h.run(exec, { bucket: 'b', manifest: 'm', run: 'r9' });
    expect(d.output).toEqual([4, 4, 2]);
    expect(seen[0]).toEqual({ run: 'r9', items: manifest.slice(0, 4).map((m) => ({ url: m.url })) });
  });

  it('a reader that does not return a JSON array fails with States.ItemReaderFailed', async () => {
    const exec = h.create(distributed(), { [S3_GET_OBJECT]: async () => ({ not: 'an array' }), [FN]: async () => 1 });
    expect((await h.run(exec, { bucket: 'b', manifest: 'm', run: 'r' })).error).toBe('States.ItemReaderFailed');
  });
});
