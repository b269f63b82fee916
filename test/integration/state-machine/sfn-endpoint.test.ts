import {
  DescribeExecutionCommand,
  ListExecutionsCommand,
  SFNClient,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
  TaskDoesNotExist,
} from '@aws-sdk/client-sfn';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startStepFunctionsEndpoint } from '../../../src/local/state-machine/index.js';
import type { StepFunctionsEndpoint } from '../../../src/local/state-machine/index.js';
import { Harness } from '../../unit/state-machine/harness.js';

const SQS = 'arn:aws:states:::sqs:sendMessage';
let h: Harness;
let endpoint: StepFunctionsEndpoint | undefined;
beforeEach(() => {
  h = new Harness();
});
afterEach(async () => {
  await endpoint?.close();
  await h.cleanup();
});

describe('Step Functions endpoint for unmodified SDK clients', () => {
  it('starts, completes a callback via SendTaskHeartbeat/SendTaskSuccess, and describes the execution', async () => {
    let token = '';
    let sent!: () => void;
    const messageSent = new Promise<void>((r) => (sent = r));
    const exec = h.create(
      {
        StartAt: 'Cb',
        States: {
          Cb: {
            Type: 'Task',
            Resource: `${SQS}.waitForTaskToken`,
            HeartbeatSeconds: 30,
            Parameters: { 'token.$': '$$.Task.Token' },
            ResultPath: '$.result',
            End: true,
          },
        },
      },
      { [SQS]: async (p) => ((token = (p as { token: string }).token), sent(), {}) },
    );
    endpoint = await startStepFunctionsEndpoint(exec);
    const sfn = new SFNClient({
      endpoint: endpoint.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    const started = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: exec.stateMachineArn,
        name: 'wire-1',
        input: JSON.stringify({ a: 1 }),
      }),
    );
    expect(started.executionArn).toMatch(/:execution:local:wire-1$/);
    expect(started.startDate).toBeInstanceOf(Date);
    await messageSent;
    await sfn.send(new SendTaskHeartbeatCommand({ taskToken: token }));
    await sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify({ manifest: 'm.json' }) }));
    await exec.waitForExecution(started.executionArn!);
    const d = await sfn.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));
    expect(d.status).toBe('SUCCEEDED');
    expect(JSON.parse(d.output!)).toEqual({ a: 1, result: { manifest: 'm.json' } });
    const list = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn: exec.stateMachineArn, statusFilter: 'SUCCEEDED' }),
    );
    expect(list.executions?.map((e) => e.name)).toEqual(['wire-1']);
    const error = await sfn
      .send(new SendTaskSuccessCommand({ taskToken: 'nope', output: '{}' }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskDoesNotExist);
    sfn.destroy();
  });
});
