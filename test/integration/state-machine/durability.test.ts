import { spawn } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PROCESS_RESTARTED, S3_GET_OBJECT, TaskTimedOut } from '../../../src/local/state-machine/index.js';
import { Harness } from '../../unit/state-machine/harness.js';
import { DDB, SQS, lockWorkflow } from './fixtures/lock-workflow.js';

const FN = 'arn:aws:lambda:us-east-1:123456789012:function:Step';
let h: Harness;
beforeEach(() => {
  h = new Harness();
});
afterEach(async () => {
  await h.cleanup();
});

const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
};

describe('durable execution state', () => {
  it('resumes at the interrupted state after close + recover, without re-running completed states', async () => {
    const def = {
      StartAt: 'First',
      States: {
        First: {
          Type: 'Task',
          Resource: FN,
          Parameters: { step: 'first', 'n.$': '$.n' },
          ResultPath: '$.first',
          Next: 'Second',
        },
        Second: { Type: 'Task', Resource: FN, Parameters: { step: 'second' }, ResultPath: '$.second', End: true },
      },
    };
    const calls: string[] = [];
    const blocked = deferred();
    const one = h.create(def, {
      [FN]: async (p) => {
        const step = (p as { step: string }).step;
        calls.push(`one:${step}`);
        if (step === 'second') {
          blocked.resolve();
          return new Promise(() => undefined);
        }
        return 'done-1';
      },
    });
    const { executionArn } = await one.startExecution({ name: 'resume-me', input: { n: 1 } });
    await blocked.promise;
    await one.close();

    const two = h.create(def, { [FN]: async (p) => (calls.push(`two:${(p as { step: string }).step}`), 'done-2') });
    expect((await two.describeExecution(executionArn)).status).toBe('RUNNING');
    await two.recover();
    const d = await two.waitForExecution(executionArn);
    expect(d).toMatchObject({ status: 'SUCCEEDED', output: { n: 1, first: 'done-1', second: 'done-2' } });
    expect(calls).toEqual(['one:first', 'one:second', 'two:second']);
    const types = (await two.history(executionArn)).map((e) => `${e.type}:${e.stateName ?? ''}`);
    expect(types).toContain('ExecutionRecovered:Second');
  });

  it('fails the pending task token of a SIGKILLed process so the Catch (lock release) runs', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', new URL('./fixtures/crash-worker.ts', import.meta.url).pathname, h.dbFile],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (b: Buffer) => b.toString().includes('READY') && resolve());
      child.on('exit', (code) => reject(new Error(`worker exited early (${code})`)));
    });
    // Give the worker a moment to persist the TaskSubmitted event after the handler returned.
    await new Promise((r) => setTimeout(r, 200));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    const lockWrites: string[] = [];
    const messages: string[] = [];
    const exec = h.create(lockWorkflow, {
      [DDB]: async (p) => (lockWrites.push((p as { runStatus: string }).runStatus), {}),
      [SQS]: async (p) => (messages.push((p as { MessageBody: { taskToken: string } }).MessageBody.taskToken), {}),
    });
    const [running] = await exec.listExecutions();
    expect(running).toMatchObject({ name: 'crashy', status: 'RUNNING' });
    await exec.recover();
    const d = await exec.waitForExecution(running!.executionArn);
    expect(d).toMatchObject({ status: 'FAILED', error: 'Export.Failed', cause: PROCESS_RESTARTED });
    expect(lockWrites).toEqual(['FAILED']);
    expect(messages).toEqual([]);
  });

  it('an old token is closed after recovery (TaskTimedOut), and a state without Catch fails cleanly', async () => {
    const def = {
      StartAt: 'Wait For Callback',
      States: {
        'Wait For Callback': {
          Type: 'Task',
          Resource: `${SQS}.waitForTaskToken`,
          Parameters: { 'token.$': '$$.Task.Token' },
          End: true,
        },
      },
    };
    let token = '';
    const sent = deferred();
    const one = h.create(def, { [SQS]: async (p) => ((token = (p as { token: string }).token), sent.resolve(), {}) });
    const { executionArn } = await one.startExecution({});
    await sent.promise;
    await one.close();
    const two = h.create(def, { [SQS]: async () => ({}) });
    await two.recover();
    const d = await two.waitForExecution(executionArn);
    expect(d).toMatchObject({ status: 'FAILED', error: PROCESS_RESTARTED });
    await expect(two.sendTaskSuccess(token, {})).rejects.toBeInstanceOf(TaskTimedOut);
  });

  it('refuses to resume with a changed definition (States.Runtime)', async () => {
    const def = { StartAt: 'W', States: { W: { Type: 'Wait', Seconds: 60, End: true } } };
    const one = h.create(def);
    const { executionArn } = await one.startExecution({});
    await one.close();
    const two = h.create({ StartAt: 'W', States: { W: { Type: 'Wait', Seconds: 61, End: true } } });
    await two.recover();
    expect(await two.describeExecution(executionArn)).toMatchObject({ status: 'FAILED', error: 'States.Runtime' });
  });

  it('a recovered Distributed Map re-runs only the items that had not finished', async () => {
    const def = {
      StartAt: 'Map',
      States: {
        Map: {
          Type: 'Map',
          ItemReader: {
            Resource: S3_GET_OBJECT,
            ReaderConfig: { InputType: 'JSON' },
            Parameters: { Bucket: 'b', Key: 'm.json' },
          },
          MaxConcurrency: 1,
          ItemProcessor: {
            ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
            StartAt: 'P',
            States: { P: { Type: 'Task', Resource: FN, End: true } },
          },
          End: true,
        },
      },
    };
    const items = [0, 1, 2, 3, 4, 5];
    const runs: string[] = [];
    const stuck = deferred();
    const one = h.create(def, {
      [S3_GET_OBJECT]: async () => items,
      [FN]: async (p) => {
        runs.push(`one:${String(p)}`);
        if (p === 3) {
          stuck.resolve();
          return new Promise(() => undefined);
        }
        return (p as number) * 10;
      },
    });
    const { executionArn } = await one.startExecution({});
    await stuck.promise;
    await one.close();
    const two = h.create(def, {
      [S3_GET_OBJECT]: async () => items,
      [FN]: async (p) => (runs.push(`two:${String(p)}`), (p as number) * 10),
    });
    await two.recover();
    const d = await two.waitForExecution(executionArn);
    expect(d.output).toEqual([0, 10, 20, 30, 40, 50]);
    expect(runs).toEqual(['one:0', 'one:1', 'one:2', 'one:3', 'two:3', 'two:4', 'two:5']);
  });

  it('a Wait state resumes with its original deadline and execution timeouts survive restarts', async () => {
    const def = { TimeoutSeconds: 1, StartAt: 'W', States: { W: { Type: 'Wait', Seconds: 30, End: true } } };
    const one = h.create(def);
    const { executionArn } = await one.startExecution({});
    await one.close();
    const two = h.create(def);
    await two.recover();
    expect(await two.waitForExecution(executionArn)).toMatchObject({ status: 'TIMED_OUT', error: 'States.Timeout' });
  });
});
