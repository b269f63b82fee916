import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  LAMBDA_INVOKE,
} from '../../../src/local/state-machine/index.js';
import type { ExecutionEvent } from '../../../src/local/state-machine/index.js';
import { Harness, namedError } from './harness.js';

const FN = 'arn:aws:lambda:us-east-1:123456789012:function:Echo';
let h: Harness;
beforeEach(() => {
  h = new Harness();
});
afterEach(async () => {
  await h.cleanup();
});

describe('input and output processing (spec § Input and Output Processing)', () => {
  it('applies InputPath, Parameters with context object, ResultSelector, ResultPath and OutputPath', async () => {
    const seen: unknown[] = [];
    const exec = h.create(
      {
        StartAt: 'T',
        States: {
          T: {
            Type: 'Task',
            Resource: FN,
            InputPath: '$.order',
            Parameters: {
              'id.$': '$.id',
              'exec.$': '$$.Execution.Name',
              'state.$': '$$.State.Name',
              'sm.$': '$$.StateMachine.Id',
              'execId.$': '$$.Execution.Id',
              'start.$': '$$.Execution.StartTime',
              fixed: 'x',
            },
            ResultSelector: { 'total.$': '$.body.total' },
            ResultPath: '$.result',
            OutputPath: '$.result',
            End: true,
          },
        },
      },
      { [FN]: async (p) => (seen.push(p), { body: { total: 42 }, noise: true }) },
    );
    const d = await h.run(exec, { order: { id: 'o-1' } }, 'exec-1');
    expect(d.status).toBe('SUCCEEDED');
    expect(d.output).toEqual({ total: 42 });
    const p = seen[0] as Record<string, unknown>;
    expect(p).toMatchObject({
      id: 'o-1',
      exec: 'exec-1',
      state: 'T',
      sm: 'arn:aws:states:us-east-1:000000000000:stateMachine:local',
      fixed: 'x',
    });
    expect(p.execId).toBe('arn:aws:states:us-east-1:000000000000:execution:local:exec-1');
    expect(Number.isNaN(Date.parse(p.start as string))).toBe(false);
  });

  it('ResultPath null keeps the input; ResultPath merges into the input (spec ResultPath examples)', async () => {
    const exec = h.create({
      StartAt: 'Discard',
      States: {
        Discard: { Type: 'Pass', Result: 'ignored', ResultPath: null, Next: 'Merge' },
        Merge: { Type: 'Pass', Result: { x: 1 }, ResultPath: '$.master.detail', Next: 'NullIO' },
        NullIO: { Type: 'Pass', InputPath: null, Parameters: { 'empty.$': '$' }, ResultPath: '$.nested', End: true },
      },
    });
    const d = await h.run(exec, { master: { detail: [1, 2, 3], keep: true } });
    expect(d.output).toEqual({ master: { detail: { x: 1 }, keep: true }, nested: { empty: {} } });
  });

  it('a Parameters path that matches nothing fails with States.ParameterPathFailure', async () => {
    const exec = h.create({
      StartAt: 'P',
      States: { P: { Type: 'Pass', Parameters: { 'x.$': '$.missing' }, End: true } },
    });
    const d = await h.run(exec, {});
    expect(d.status).toBe('FAILED');
    expect(d.error).toBe('States.ParameterPathFailure');
  });

  it('Parameters with intrinsic functions', async () => {
    const exec = h.create({
      StartAt: 'P',
      States: {
        P: {
          Type: 'Pass',
          Parameters: { 'greeting.$': "States.Format('Hello {}', $.who)", 'n.$': 'States.ArrayLength($.list)' },
          End: true,
        },
      },
    });
    expect((await h.run(exec, { who: 'World', list: [1, 2] })).output).toEqual({ greeting: 'Hello World', n: 2 });
  });
});

describe('flow states', () => {
  it('Choice picks the first matching rule, falls back to Default, and fails without one', async () => {
    const def = (withDefault: boolean) => ({
      StartAt: 'C',
      States: {
        C: {
          Type: 'Choice',
          Choices: [
            { Not: { Variable: '$.type', StringEquals: 'Private' }, Next: 'Public' },
            {
              And: [
                { Variable: '$.value', IsPresent: true },
                { Variable: '$.value', NumericGreaterThanEquals: 20 },
                { Variable: '$.value', NumericLessThan: 30 },
              ],
              Next: 'ValueInTwenties',
            },
          ],
          ...(withDefault ? { Default: 'DefaultState' } : {}),
        },
        Public: { Type: 'Pass', Result: 'public', End: true },
        ValueInTwenties: { Type: 'Pass', Result: 'twenties', End: true },
        DefaultState: { Type: 'Fail', Error: 'DefaultStateError', Cause: 'No Matches!' },
      },
    });
    const exec = h.create(def(true));
    expect((await h.run(exec, { type: 'Public' })).output).toBe('public');
    expect((await h.run(exec, { type: 'Private', value: 25 })).output).toBe('twenties');
    const d = await h.run(exec, { type: 'Private', value: 35 });
    expect(d).toMatchObject({ status: 'FAILED', error: 'DefaultStateError', cause: 'No Matches!' });
    await exec.close();
    const h2 = new Harness();
    try {
      const noDefault = h2.create(def(false));
      expect((await h2.run(noDefault, { type: 'Private', value: 35 })).error).toBe('States.NoChoiceMatched');
    } finally {
      await h2.cleanup();
    }
  });

  it('Fail takes ErrorPath / CausePath (paths or intrinsics)', async () => {
    const exec = h.create({
      StartAt: 'F',
      States: { F: { Type: 'Fail', ErrorPath: '$.code', CausePath: "States.Format('bad {}', $.id)" } },
    });
    expect(await h.run(exec, { code: 'E42', id: 7 })).toMatchObject({ status: 'FAILED', error: 'E42', cause: 'bad 7' });
  });

  it('Wait with Seconds, SecondsPath, Timestamp and TimestampPath', async () => {
    const past = new Date(Date.now() - 1000).toISOString();
    const exec = h.create({
      StartAt: 'W1',
      States: {
        W1: { Type: 'Wait', Seconds: 0, Next: 'W2' },
        W2: { Type: 'Wait', SecondsPath: '$.s', Next: 'W3' },
        W3: { Type: 'Wait', Timestamp: past, Next: 'W4' },
        W4: { Type: 'Wait', TimestampPath: '$.t', OutputPath: '$.s', End: true },
      },
    });
    const d = await h.run(exec, { s: 0, t: past });
    expect(d.status).toBe('SUCCEEDED');
    expect(d.output).toBe(0);
    const types = (await exec.history(d.executionArn)).map((e) => `${e.type}:${e.stateName ?? ''}`);
    expect(types).toEqual([
      'ExecutionStarted:',
      'WaitStateEntered:W1',
      'WaitStateExited:W1',
      'WaitStateEntered:W2',
      'WaitStateExited:W2',
      'WaitStateEntered:W3',
      'WaitStateExited:W3',
      'WaitStateEntered:W4',
      'WaitStateExited:W4',
      'ExecutionSucceeded:',
    ]);
  });

  it('Wait with a non-integer SecondsPath fails with States.Runtime', async () => {
    const exec = h.create({ StartAt: 'W', States: { W: { Type: 'Wait', SecondsPath: '$.s', End: true } } });
    expect((await h.run(exec, { s: 'soon' })).error).toBe('States.Runtime');
  });

  it('Succeed applies InputPath/OutputPath', async () => {
    const exec = h.create({ StartAt: 'S', States: { S: { Type: 'Succeed', InputPath: '$.a', OutputPath: '$.b' } } });
    expect((await h.run(exec, { a: { b: 5 } })).output).toBe(5);
  });
});

describe('Task', () => {
  it('maps a handler error name to the ASL error and message to cause', async () => {
    const exec = h.create(
      { StartAt: 'T', States: { T: { Type: 'Task', Resource: FN, End: true } } },
      {
        [FN]: async () => {
          throw namedError('Custom.Boom', 'it broke');
        },
      },
    );
    expect(await h.run(exec, {})).toMatchObject({ status: 'FAILED', error: 'Custom.Boom', cause: 'it broke' });
  });

  it('wraps lambda:invoke results like the AWS optimized integration', async () => {
    const exec = h.create(
      {
        StartAt: 'T',
        States: {
          T: {
            Type: 'Task',
            Resource: LAMBDA_INVOKE,
            Parameters: { FunctionName: 'f', 'Payload.$': '$' },
            ResultSelector: { 'body.$': '$.Payload', 'code.$': '$.StatusCode' },
            End: true,
          },
        },
      },
      { [LAMBDA_INVOKE]: async (p) => ({ echoed: (p as { Payload: unknown }).Payload }) },
    );
    expect((await h.run(exec, { a: 1 })).output).toEqual({ body: { echoed: { a: 1 } }, code: 200 });
  });

  it('TimeoutSeconds fails the task with States.Timeout and aborts the handler signal', async () => {
    let aborted = false;
    const exec = h.create(
      { StartAt: 'T', States: { T: { Type: 'Task', Resource: FN, TimeoutSeconds: 1, End: true } } },
      {
        [FN]: (_p, ctx) =>
          new Promise((resolve) =>
            ctx.signal.addEventListener('abort', () => {
              aborted = true;
              resolve(null);
            }),
          ),
      },
    );
    expect((await h.run(exec, {})).error).toBe('States.Timeout');
    expect(aborted).toBe(true);
  });

  it('TimeoutSecondsPath reads the timeout from the input', async () => {
    const exec = h.create(
      { StartAt: 'T', States: { T: { Type: 'Task', Resource: FN, TimeoutSecondsPath: '$.t', End: true } } },
      { [FN]: () => new Promise(() => undefined) },
    );
    expect((await h.run(exec, { t: 1 })).error).toBe('States.Timeout');
  });
});

describe('Retry and Catch (spec § Error Handling)', () => {
  it('retries then succeeds, exposing $$.State.RetryCount', async () => {
    const counts: unknown[] = [];
    let calls = 0;
    const exec = h.create(
      {
        StartAt: 'T',
        States: {
          T: {
            Type: 'Task',
            Resource: FN,
            Parameters: { 'retry.$': '$$.State.RetryCount' },
            Retry: [{ ErrorEquals: ['Flaky'], IntervalSeconds: 1, MaxAttempts: 2, BackoffRate: 1 }],
            End: true,
          },
        },
      },
      {
        [FN]: async (p) => {
          counts.push((p as { retry: number }).retry);
          if (++calls < 2) throw namedError('Flaky', 'try again');
          return 'ok';
        },
      },
    );
    const d = await h.run(exec, {});
    expect(d.output).toBe('ok');
    expect(counts).toEqual([0, 1]);
    expect((await exec.history(d.executionArn)).some((e) => e.type === 'StateRetryScheduled')).toBe(true);
  });

  it('Catch puts {Error, Cause} at ResultPath and goes to Next; States.ALL is last', async () => {
    const exec = h.create(
      {
        StartAt: 'T',
        States: {
          T: {
            Type: 'Task',
            Resource: FN,
            Retry: [{ ErrorEquals: ['Other'], MaxAttempts: 1 }],
            Catch: [
              { ErrorEquals: ['Nope'], Next: 'Wrong' },
              { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Handled' },
            ],
            End: true,
          },
          Wrong: { Type: 'Fail', Error: 'Wrong' },
          Handled: { Type: 'Pass', End: true },
        },
      },
      {
        [FN]: async () => {
          throw namedError('Boom', 'kaput');
        },
      },
    );
    expect((await h.run(exec, { keep: 1 })).output).toEqual({ keep: 1, error: { Error: 'Boom', Cause: 'kaput' } });
  });

  it('States.TaskFailed does not catch States.Timeout', async () => {
    const exec = h.create(
      {
        StartAt: 'T',
        States: {
          T: {
            Type: 'Task',
            Resource: FN,
            TimeoutSeconds: 1,
            Catch: [{ ErrorEquals: ['States.TaskFailed'], Next: 'C' }],
            End: true,
          },
          C: { Type: 'Succeed' },
        },
      },
      { [FN]: () => new Promise(() => undefined) },
    );
    expect((await h.run(exec, {})).error).toBe('States.Timeout');
  });
});

describe('Parallel and inline Map', () => {
  it('Parallel returns branch outputs in order (spec LookupCustomerInfo example shape)', async () => {
    const exec = h.create({
      StartAt: 'LookupCustomerInfo',
      States: {
        LookupCustomerInfo: {
          Type: 'Parallel',
          Branches: [
            {
              StartAt: 'LookupAddress',
              States: { LookupAddress: { Type: 'Pass', Parameters: { 'addr.$': '$.id' }, End: true } },
            },
            {
              StartAt: 'LookupPhone',
              States: {
                LookupPhone: { Type: 'Wait', Seconds: 0, Next: 'PhoneDone' },
                PhoneDone: { Type: 'Pass', Result: 'phone', End: true },
              },
            },
          ],
          ResultSelector: { 'address.$': '$[0].addr', 'phone.$': '$[1]' },
          End: true,
        },
      },
    });
    expect((await h.run(exec, { id: 'c1' })).output).toEqual({ address: 'c1', phone: 'phone' });
  });

  it('a failing branch fails the Parallel (catchable) and cancels siblings', async () => {
    let cancelled = false;
    const exec = h.create(
      {
        StartAt: 'P',
        States: {
          P: {
            Type: 'Parallel',
            Branches: [
              { StartAt: 'Slow', States: { Slow: { Type: 'Task', Resource: FN, End: true } } },
              { StartAt: 'Bad', States: { Bad: { Type: 'Fail', Error: 'BranchBroke' } } },
            ],
            Catch: [{ ErrorEquals: ['BranchBroke'], Next: 'Caught' }],
            End: true,
          },
          Caught: { Type: 'Pass', Result: 'caught', End: true },
        },
      },
      {
        [FN]: (_p, ctx) =>
          new Promise((resolve) =>
            ctx.signal.addEventListener('abort', () => {
              cancelled = true;
              resolve(null);
            }),
          ),
      },
    );
    expect((await h.run(exec, {})).output).toBe('caught');
    expect(cancelled).toBe(true);
  });

  it('inline Map with ItemsPath, ItemSelector, $$.Map.Item and MaxConcurrency', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const exec = h.create(
      {
        StartAt: 'M',
        States: {
          M: {
            Type: 'Map',
            ItemsPath: '$.detail.shipped',
            MaxConcurrency: 2,
            ItemSelector: {
              'parcel.$': '$$.Map.Item.Value',
              'index.$': '$$.Map.Item.Index',
              'courier.$': '$.detail.courier',
            },
            ItemProcessor: {
              ProcessorConfig: { Mode: 'INLINE' },
              StartAt: 'Ship',
              States: { Ship: { Type: 'Task', Resource: FN, End: true } },
            },
            ResultPath: '$.detail.results',
            End: true,
          },
        },
      },
      {
        [FN]: async (p) => {
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          await new Promise((r) => setTimeout(r, 5));
          inFlight--;
          const { parcel, index, courier } = p as { parcel: { prod: string }; index: number; courier: string };
          return `${index}:${parcel.prod}:${courier}`;
        },
      },
    );
    const d = await h.run(exec, {
      detail: { courier: 'ups', shipped: [{ prod: 'R31' }, { prod: 'S39' }, { prod: 'R40' }, { prod: 'R41' }] },
    });
    expect((d.output as { detail: { results: string[] } }).detail.results).toEqual([
      '0:R31:ups',
      '1:S39:ups',
      '2:R40:ups',
      '3:R41:ups',
    ]);
    expect(maxInFlight).toBeLessThanOrEqual(2);
  });

  it('legacy Iterator with Parameters still works; a failing iteration fails the Map', async () => {
    const exec = h.create({
      StartAt: 'M',
      States: {
        M: {
          Type: 'Map',
          Parameters: { 'v.$': '$$.Map.Item.Value' },
          Iterator: {
            StartAt: 'C',
            States: {
              C: { Type: 'Choice', Choices: [{ Variable: '$.v', NumericGreaterThan: 2, Next: 'Bad' }], Default: 'Ok' },
              Ok: { Type: 'Pass', End: true },
              Bad: { Type: 'Fail', Error: 'TooBig' },
            },
          },
          End: true,
        },
      },
    });
    expect((await h.run(exec, [1, 2])).output).toEqual([{ v: 1 }, { v: 2 }]);
    expect((await h.run(exec, [1, 2, 3])).error).toBe('TooBig');
  });
});

describe('executions API', () => {
  it('startExecution is idempotent by name and input, like AWS', async () => {
    const exec = h.create({ StartAt: 'W', States: { W: { Type: 'Wait', Seconds: 1, End: true } } });
    const a = await exec.startExecution({ name: 'same', input: { x: 1 } });
    const b = await exec.startExecution({ name: 'same', input: { x: 1 } });
    expect(b.executionArn).toBe(a.executionArn);
    await expect(exec.startExecution({ name: 'same', input: { x: 2 } })).rejects.toBeInstanceOf(ExecutionAlreadyExists);
    await exec.waitForExecution(a.executionArn);
    await expect(exec.startExecution({ name: 'same', input: { x: 1 } })).rejects.toBeInstanceOf(ExecutionAlreadyExists);
    expect((await exec.listExecutions()).map((e) => e.name)).toEqual(['same']);
  });

  it('stopExecution aborts the execution and its running handler', async () => {
    let signalled = false;
    let started!: () => void;
    const startedP = new Promise<void>((r) => (started = r));
    const exec = h.create(
      { StartAt: 'T', States: { T: { Type: 'Task', Resource: FN, End: true } } },
      {
        [FN]: (_p, ctx) => {
          started();
          return new Promise((r) =>
            ctx.signal.addEventListener('abort', () => {
              signalled = true;
              r(null);
            }),
          );
        },
      },
    );
    const { executionArn } = await exec.startExecution({});
    await startedP;
    await exec.stopExecution(executionArn, 'User.Stop', 'operator');
    const d = await exec.waitForExecution(executionArn);
    expect(d).toMatchObject({ status: 'ABORTED', error: 'User.Stop', cause: 'operator' });
    expect(signalled).toBe(true);
  });

  it('execution-level TimeoutSeconds ends as TIMED_OUT', async () => {
    const exec = h.create({ TimeoutSeconds: 1, StartAt: 'W', States: { W: { Type: 'Wait', Seconds: 30, End: true } } });
    expect(await h.run(exec, {})).toMatchObject({ status: 'TIMED_OUT', error: 'States.Timeout' });
  });

  it('emits progress events and rejects unknown executions', async () => {
    const exec = h.create({ StartAt: 'A', States: { A: { Type: 'Pass', Next: 'B' }, B: { Type: 'Pass', End: true } } });
    const events: ExecutionEvent[] = [];
    const off = exec.onEvent((e) => events.push(e));
    await h.run(exec, {});
    off();
    expect(events.map((e) => e.type)).toEqual([
      'ExecutionStarted',
      'PassStateEntered',
      'PassStateExited',
      'PassStateEntered',
      'PassStateExited',
      'ExecutionSucceeded',
    ]);
    await expect(
      exec.describeExecution('arn:aws:states:us-east-1:000000000000:execution:local:nope'),
    ).rejects.toBeInstanceOf(ExecutionDoesNotExist);
  });
});
