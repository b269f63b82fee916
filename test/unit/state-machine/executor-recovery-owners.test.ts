import { afterEach, describe, expect, it } from 'vitest';
import { OWNER_DIED } from '../../../src/local/state-machine/index.js';
import { Harness } from './harness.js';

// A task that never finishes while its process lives: the execution stays RUNNING until the executor closes.
const definition = {
  StartAt: 'Wait',
  States: { Wait: { Type: 'Task', Resource: 'arn:aws:states:::local:block', End: true } },
};
const block = () => new Promise<never>(() => undefined);

describe('executor: execution owners and recovery modes', () => {
  let harness: Harness;
  afterEach(async () => harness.cleanup());

  it("records each execution's owner process and reports it in describeExecution", async () => {
    harness = new Harness();
    const executor = harness.create(definition, { 'arn:aws:states:::local:block': block }, { owner: 'sync:h:11' });
    const { executionArn } = await executor.startExecution({ name: 'r1', input: {} });
    expect((await executor.describeExecution(executionArn)).owner).toBe('sync:h:11');
  });

  it("recover({orphans:'fail'}) ends a dead process's execution FAILED (Tributary.OwnerDied) instead of resuming it", async () => {
    harness = new Harness();
    const dead = harness.create(definition, { 'arn:aws:states:::local:block': block }, { owner: 'sync:h:11' });
    const { executionArn } = await dead.startExecution({ name: 'r1', input: {} });
    await dead.close(); // as if killed: the execution stays RUNNING in the store

    const next = harness.create(definition, { 'arn:aws:states:::local:block': block }, { owner: 'sync:h:12' });
    const recovered = await next.recover({ orphans: 'fail' });
    expect(recovered).toEqual([{ executionArn, name: 'r1', owner: 'sync:h:11', action: 'failed' }]);
    const described = await next.describeExecution(executionArn);
    expect(described).toMatchObject({ status: 'FAILED', error: OWNER_DIED });
    expect(described.cause).toContain('sync:h:11');
  });

  it('the default recovery resumes and adopts the execution; an owner reported alive is left alone', async () => {
    harness = new Harness();
    const first = harness.create(definition, { 'arn:aws:states:::local:block': block }, { owner: 'up:h:21' });
    const { executionArn } = await first.startExecution({ name: 'r1', input: {} });
    await first.close();

    const bystander = harness.create(definition, { 'arn:aws:states:::local:block': block }, { owner: 'sync:h:22' });
    expect(await bystander.recover({ orphans: 'fail', isOwnerAlive: (owner) => owner === 'up:h:21' })).toEqual([]);
    expect((await bystander.describeExecution(executionArn)).status).toBe('RUNNING');
    await bystander.close();

    const next = harness.create(definition, { 'arn:aws:states:::local:block': block }, { owner: 'up:h:23' });
    expect(await next.recover()).toEqual([{ executionArn, name: 'r1', owner: 'up:h:21', action: 'resumed' }]);
    expect(await next.describeExecution(executionArn)).toMatchObject({ status: 'RUNNING', owner: 'up:h:23' });
  });
});
