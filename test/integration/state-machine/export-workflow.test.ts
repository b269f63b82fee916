import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LAMBDA_INVOKE, S3_GET_OBJECT } from '../../../src/local/state-machine/index.js';
import type { ResourceHandler } from '../../../src/local/state-machine/index.js';
import { Harness } from '../../unit/state-machine/harness.js';

import { EVENTS, GET, PUT, SQS, UPDATE, exportWorkflow } from './fixtures/export-workflow.js';

let h: Harness;
beforeEach(() => {
  h = new Harness();
});
afterEach(async () => {
  await h.cleanup();
});

function world(exportOutcome: 'complete' | 'fail') {
  const table = new Map<string, Record<string, unknown>>([
    ['RUN', { runStatus: 'COMPLETED', lastRunTime: '2024-01-01T00:00:00Z' }],
  ]);
  const events: unknown[] = [];
  const files: Record<string, string[]> = {
    'Patient-1.ndjson': ['p1', 'p2'],
    'Observation-1.ndjson': ['o1', 'o2', 'o3'],
  };
  let exec!: {
    sendTaskSuccess(t: string, o: unknown): Promise<void>;
    sendTaskFailure(t: string, e?: string, c?: string): Promise<void>;
    sendTaskHeartbeat(t: string): Promise<void>;
  };
  const resources: Record<string, ResourceHandler> = {
    [GET]: async (p) => ({ Item: table.get((p as { Key: { pk: { S: string } } }).Key.pk.S) }),
    [PUT]: async (p) => {
      const { Item } = p as { Item: { pk: string } & Record<string, unknown> };
      table.set(Item.pk, Item);
      return {};
    },
    [UPDATE]: async (p) => {
      const { Key, runStatus, lastRunTime } = p as {
        Key: { pk: { S: string } };
        runStatus: string;
        lastRunTime?: string;
      };
      const current = table.get(Key.pk.S) ?? {};
      table.set(Key.pk.S, { ...current, runStatus, ...(lastRunTime ? { lastRunTime } : {}) });
      return {};
    },
    [SQS]: async (p) => {
      const { taskToken, lastRunTime } = (p as { MessageBody: { taskToken: string; lastRunTime: string } }).MessageBody;
      expect(lastRunTime).toBe('2024-01-01T00:00:00Z');
      // The start-export / check-export Lambdas, asynchronously: heartbeat, then success or failure.
      setTimeout(() => {
        void (async () => {
          await exec.sendTaskHeartbeat(taskToken);
          if (exportOutcome === 'complete')
            await exec.sendTaskSuccess(taskToken, { bucket: 'exports', manifest: 'job-1/manifest.json' });
          else await exec.sendTaskFailure(taskToken, 'HealthLake.ExportFailed', 'job FAILED');
        })();
      }, 10);
      return { MessageId: '1' };
    },
    [S3_GET_OBJECT]: async (p) => {
      expect(p).toEqual({ Bucket: 'exports', Key: 'job-1/manifest.json' });
      return Object.keys(files).map((name) => ({ type: name.split('-')[0], url: `s3://exports/job-1/${name}` }));
    },
    [LAMBDA_INVOKE]: async (p) => {
      const { file } = (p as { Payload: { file: { url: string } } }).Payload;
      const name = file.url.split('/').pop() as string;
      return { events: (files[name] ?? []).map((id) => ({ id })) };
    },
    [EVENTS]: async (p) => (
      events.push(JSON.parse((p as { Entries: Array<{ Detail: string }> }).Entries[0]!.Detail)),
      { FailedEntryCount: 0 }
    ),
  };
  return { table, events, resources, bind: (e: typeof exec) => (exec = e) };
}

describe('export workflow (SYSTEM.md § 3)', () => {
  it('exports, fans out over the manifest, emits every resource and completes the run ledger', async () => {
    const w = world('complete');
    const exec = h.create(exportWorkflow, w.resources, { clock: { now: () => new Date('2025-06-01T12:00:00.000Z') } });
    w.bind(exec);
    const d = await h.run(exec, {}, 'run-1');
    expect(d.status).toBe('SUCCEEDED');
    expect(d.output).toEqual([{ count: 2 }, { count: 3 }]);
    expect(w.events).toHaveLength(5);
    expect(w.table.get('RUN')).toEqual({ runStatus: 'COMPLETED', lastRunTime: '2025-06-01T12:00:00.000Z' });
    expect(d.startDate.toISOString()).toBe('2025-06-01T12:00:00.000Z');
  });

  it('ends successfully with "job in progress" while the lock is held', async () => {
    const w = world('complete');
    w.table.set('RUN', { runStatus: 'RUNNING', lastRunTime: 'x' });
    const exec = h.create(exportWorkflow, w.resources);
    w.bind(exec);
    const d = await h.run(exec, {});
    expect(d).toMatchObject({ status: 'SUCCEEDED', output: { item: { runStatus: 'RUNNING', lastRunTime: 'x' } } });
  });

  it('a failed export releases the lock as FAILED and keeps the watermark', async () => {
    const w = world('fail');
    const exec = h.create(exportWorkflow, w.resources);
    w.bind(exec);
    const d = await h.run(exec, {});
    expect(d).toMatchObject({ status: 'FAILED', error: 'Export.Failed', cause: 'HealthLake.ExportFailed' });
    expect(w.table.get('RUN')).toEqual({ runStatus: 'FAILED', lastRunTime: '2024-01-01T00:00:00Z' });
  });
});
