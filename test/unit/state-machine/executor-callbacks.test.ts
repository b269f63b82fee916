import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidToken, TaskDoesNotExist, TaskTimedOut } from '../../../src/local/state-machine/index.js';
import type { TaskContext } from '../../../src/local/state-machine/index.js';
import { ExecutionStore } from '../../../src/local/state-machine/execution-store.js';
import { Harness } from './harness.js';

// AWS "Wait for a Callback with Task Token" (.waitForTaskToken) and HeartbeatSeconds.
const SQS = 'arn:aws:states:::sqs:sendMessage';
const callbackMachine = (extra: Record<string, unknown> = {}) => ({
  StartAt: 'Send',
  States: {
    Send: {
      Type: 'Task',
      Resource: `${SQS}.waitForTaskToken`,
      Parameters: { QueueUrl: 'q', MessageBody: { 'token.$': '$$.Task.Token', 'since.$': '$.since' } },
      ResultPath: '$.export',
      ...extra,
      Next: 'Done',
    },
    Done: { Type: 'Pass', End: true },
    Failed: { Type: 'Pass', Result: 'released', End: true },
  },
});

let h: Harness;
beforeEach(() => {
  h = new Harness();
});
afterEach(async () => {
  await h.cleanup();
});

/** A fake SQS: records messages and exposes the latest one. */
function fakeQueue() {
  const messages: Array<{ body: { token: string; since: string }; ctx: TaskContext }> = [];
  let notify: (() => void) | undefined;
  return {
    messages,
    handler: async (p: unknown, ctx: TaskContext) => {
      messages.push({ body: (p as { MessageBody: { token: string; since: string } }).MessageBody, ctx });
      notify?.();
      return { MessageId: `m-${messages.length}` };
    },
    next: () => new Promise<void>((r) => (notify = r)),
  };
}

describe('.waitForTaskToken', () => {
  it('passes a real token in Parameters and ctx, waits for sendTaskSuccess, and closes the token', async () => {
    const q = fakeQueue();
    const exec = h.create(callbackMachine(), { [SQS]: q.handler });
    const arrived = q.next();
    const { executionArn } = await exec.startExecution({ input: { since: '2024-01-01T00:00:00Z' } });
    await arrived;
    const msg = q.messages[0]!;
    expect(msg.body.since).toBe('2024-01-01T00:00:00Z');
    expect(msg.body.token).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(msg.ctx.taskToken).toBe(msg.body.token);
    expect((await exec.describeExecution(executionArn)).status).toBe('RUNNING');
    await exec.sendTaskSuccess(msg.body.token, { manifest: 'k' });
    const d = await exec.waitForExecution(executionArn);
    expect(d.output).toEqual({ since: '2024-01-01T00:00:00Z', export: { manifest: 'k' } });
    await expect(exec.sendTaskSuccess(msg.body.token, {})).rejects.toBeInstanceOf(TaskTimedOut);
    await expect(exec.sendTaskSuccess('unknown-token', {})).rejects.toBeInstanceOf(TaskDoesNotExist);
    await expect(exec.sendTaskHeartbeat('')).rejects.toBeInstanceOf(InvalidToken);
  });

  it('sendTaskFailure routes through Catch with the given error and cause', async () => {
    const q = fakeQueue();
    const exec = h.create(
      callbackMachine({ Catch: [{ ErrorEquals: ['Export.Failed'], ResultPath: '$.error', Next: 'Failed' }] }),
      { [SQS]: q.handler },
    );
    const arrived = q.next();
    const { executionArn } = await exec.startExecution({ input: { since: 'x' } });
    await arrived;
    await exec.sendTaskFailure(q.messages[0]!.body.token, 'Export.Failed', 'job FAILED');
    expect((await exec.waitForExecution(executionArn)).output).toBe('released');
    const types = (await exec.history(executionArn)).map((e) => e.type);
    expect(types).toContain('TaskSubmitted');
    expect(types).toContain('StateErrorCaught');
  });

  it('a token completed while the handler is still running is honoured', async () => {
    const exec = h.create(callbackMachine(), {
      [SQS]: async (p, ctx) => {
        await exec.sendTaskSuccess(ctx.taskToken!, 'fast');
        return {};
      },
    });
    expect((await h.run(exec, { since: 's' })).output).toEqual({ since: 's', export: 'fast' });
  });

  it('heartbeats keep the task alive; missing one fails with States.HeartbeatTimeout', async () => {
    const q = fakeQueue();
    const exec = h.create(callbackMachine({ HeartbeatSeconds: 1, TimeoutSeconds: 30 }), { [SQS]: q.handler });
    let arrived = q.next();
    const { executionArn } = await exec.startExecution({ input: { since: 's' } });
    await arrived;
    const token = q.messages[0]!.body.token;
    // Three heartbeats at ~0.4 s intervals outlive the 1 s heartbeat window.
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 400));
      await exec.sendTaskHeartbeat(token);
    }
    await exec.sendTaskSuccess(token, 'alive');
    expect((await exec.waitForExecution(executionArn)).status).toBe('SUCCEEDED');

    arrived = q.next();
    const second = await exec.startExecution({ input: { since: 's' } });
    await arrived;
    const d = await exec.waitForExecution(second.executionArn);
    expect(d).toMatchObject({ status: 'FAILED', error: 'States.HeartbeatTimeout' });
    await expect(exec.sendTaskSuccess(q.messages[1]!.body.token, {})).rejects.toBeInstanceOf(TaskTimedOut);
  });

  it('a heartbeat timeout can be caught (the lock-release path)', async () => {
    const q = fakeQueue();
    const exec = h.create(
      callbackMachine({ HeartbeatSeconds: 1, Catch: [{ ErrorEquals: ['States.Timeout'], Next: 'Failed' }] }),
      { [SQS]: q.handler },
    );
    expect((await h.run(exec, { since: 's' })).output).toBe('released');
  });

  it('a callback in a Parallel branch cancelled by a failing sibling has its token closed', async () => {
    const q = fakeQueue();
    const exec = h.create(
      {
        StartAt: 'P',
        States: {
          P: {
            Type: 'Parallel',
            Branches: [
              {
                StartAt: 'Cb',
                States: {
                  Cb: {
                    Type: 'Task',
                    Resource: `${SQS}.waitForTaskToken`,
                    Parameters: { MessageBody: { 'token.$': '$$.Task.Token', since: 'x' } },
                    End: true,
                  },
                },
              },
              {
                StartAt: 'Later',
                States: {
                  Later: { Type: 'Wait', Seconds: 1, Next: 'Boom' },
                  Boom: { Type: 'Fail', Error: 'Sibling.Failed' },
                },
              },
            ],
            Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Done' }],
            End: true,
          },
          Done: { Type: 'Succeed' },
        },
      },
      { [SQS]: q.handler },
    );
    const d = await h.run(exec, {});
    expect(d.status).toBe('SUCCEEDED');
    const store = new ExecutionStore(h.dbFile);
    try {
      expect(store.pendingTokens(d.executionArn)).toEqual([]);
      expect(store.getToken(q.messages[0]!.body.token)?.status).toBe('CLOSED');
    } finally {
      store.close();
    }
  });

  it('stopping the execution closes its pending token', async () => {
    const q = fakeQueue();
    const exec = h.create(callbackMachine(), { [SQS]: q.handler });
    const arrived = q.next();
    const { executionArn } = await exec.startExecution({ input: { since: 's' } });
    await arrived;
    await exec.stopExecution(executionArn);
    await expect(exec.sendTaskSuccess(q.messages[0]!.body.token, {})).rejects.toBeInstanceOf(TaskTimedOut);
    expect((await exec.describeExecution(executionArn)).status).toBe('ABORTED');
  });
});
