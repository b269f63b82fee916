import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { awsSdkTask } from '../../../src/local/state-machine/aws-sdk-task.js';
import { StateMachineExecutor, validateDefinition } from '../../../src/local/state-machine/index.js';
import { itemsOfObject } from '../../../src/local/state-machine/item-reader-input.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const mapDefinition = (inputType: string) => ({
  StartAt: 'M',
  States: {
    M: {
      Type: 'Map',
      ItemReader: {
        Resource: 'arn:aws:states:::s3:getObject',
        ReaderConfig: { InputType: inputType },
        Parameters: { Bucket: 'b', Key: 'manifest-files.json' },
      },
      ItemSelector: { 'key.$': '$$.Map.Item.Value.dataFileS3Key' },
      ItemProcessor: {
        ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
        StartAt: 'P',
        States: { P: { Type: 'Pass', End: true } },
      },
      End: true,
    },
  },
});

describe('ItemReader InputType JSONL', () => {
  it('parses one item per non-empty line, and names a bad line', () => {
    expect(itemsOfObject('{"a":1}\n\n{"a":2}\n', 'JSONL', 'M')).toEqual([{ a: 1 }, { a: 2 }]);
    expect(itemsOfObject(Buffer.from('{"a":1}'), 'JSONL', 'M')).toEqual([{ a: 1 }]);
    expect(() => itemsOfObject('{"a":1}\n{oops\n', 'JSONL', 'M')).toThrow(/line 2 is not valid JSON/);
    expect(() => itemsOfObject([{ a: 1 }], 'JSONL', 'M')).toThrow(/as text or bytes/);
    expect(itemsOfObject('[1,2]', 'JSON', 'M')).toEqual([1, 2]);
  });

  it('the validator accepts JSON and JSONL only', () => {
    const resources = new Set(['arn:aws:states:::s3:getObject']);
    expect(validateDefinition(mapDefinition('JSONL'), resources)).toEqual([]);
    expect(validateDefinition(mapDefinition('CSV'), resources).map((p) => p.message)).toContain(
      "only InputType 'JSON' or 'JSONL' is supported",
    );
  });

  it('a Distributed Map runs one child per line of a manifest-files.json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-jsonl-'));
    dirs.push(dir);
    const executor = new StateMachineExecutor({
      definition: mapDefinition('JSONL'),
      dbFile: join(dir, 'x.sqlite'),
      resources: {
        'arn:aws:states:::s3:getObject': async () =>
          Buffer.from(
            '{"dataFileS3Key":"data/a.json.gz","itemCount":2}\n{"dataFileS3Key":"data/b.json.gz","itemCount":1}\n',
          ),
      },
    });
    try {
      const { executionArn } = await executor.startExecution({ input: {} });
      const done = await executor.waitForExecution(executionArn);
      expect(done.output).toEqual([{ key: 'data/a.json.gz' }, { key: 'data/b.json.gz' }]);
    } finally {
      await executor.close();
    }
  });
});

describe('awsSdkTask: the AWS SDK integration shape', () => {
  it('converts timestamp fields to Dates, drops $metadata, and names service errors <Prefix>.<Exception>', async () => {
    let seen: Record<string, unknown> = {};
    const ok = awsSdkTask<Record<string, unknown>>(
      'DynamoDb',
      async (input) => {
        seen = input;
        return { $metadata: { httpStatusCode: 200 }, ExportDescription: { StartTime: new Date(0) } };
      },
      { timestampFields: ['ExportTime', 'ExportFromTime'] },
    );
    const signal = new AbortController().signal;
    const ctx = { executionArn: 'e', stateName: 's', signal };
    expect(
      await ok({ ExportTime: '2024-01-01T00:00:00Z', Spec: { ExportFromTime: 1_700_000_000 }, Other: 'x' }, ctx),
    ).toEqual({ ExportDescription: { StartTime: '1970-01-01T00:00:00.000Z' } });
    expect(seen.ExportTime).toEqual(new Date('2024-01-01T00:00:00Z'));
    expect((seen.Spec as { ExportFromTime: Date }).ExportFromTime).toEqual(new Date(1_700_000_000_000));
    const failing = awsSdkTask('DynamoDb', async () => {
      throw Object.assign(new Error('conflict'), { name: 'ExportConflictException', $metadata: {} });
    });
    await expect(failing({}, ctx)).rejects.toMatchObject({
      name: 'DynamoDb.ExportConflictException',
      message: 'conflict',
    });
  });
});
