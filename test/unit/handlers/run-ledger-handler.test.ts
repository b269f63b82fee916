import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadWithEnv } from './lambda-test-env.js';

const ddb = mockClient(DynamoDBDocumentClient);
const sfn = mockClient(SFNClient);
const sqs = mockClient(SQSClient);
const ARN = 'arn:aws:states:eu-west-2:1:execution:tributary-export:run-1';
const RECHECK_QUEUE_URL = 'https://sqs.eu-west-2.amazonaws.com/1/recheck';

async function loadHandler(env: Record<string, string> = {}) {
  const loaded = await loadWithEnv(
    { LEDGER_TABLE: 'ledger', ...env },
    () => import('../../../src/handlers/run-ledger.js'),
  );
  return loaded.handler;
}

/** The ledger holds run-1 RUNNING (owned by ARN) and, when `job`, the export job it started. */
function runningRun(job: boolean) {
  ddb.on(GetCommand, { Key: { pk: 'RUN', sk: 'run-1' } }).resolves({
    Item: { pk: 'RUN', sk: 'run-1', runId: 'run-1', status: 'RUNNING', since: null, startedAt: 'x', executionArn: ARN },
  });
  if (job)
    ddb.on(GetCommand, { Key: { pk: 'JOB', sk: 'run-1' } }).resolves({
      Item: { pk: 'JOB', sk: 'run-1', jobId: 'job-9', statusUrl: 'https://h/r4/export/job-9' },
    });
}

const sentCancels = () =>
  sqs.commandCalls(SendMessageCommand).map((call) => ({
    QueueUrl: call.args[0].input.QueueUrl,
    DelaySeconds: call.args[0].input.DelaySeconds,
    body: JSON.parse(call.args[0].input.MessageBody!) as unknown,
  }));

describe('run-ledger handler', () => {
  beforeEach(() => {
    ddb.reset();
    sfn.reset();
    sqs.reset();
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
    ddb.on(GetCommand).resolves({});
    ddb.on(PutCommand).resolves({});
    ddb.on(DeleteCommand).resolves({});
  });
  afterEach(() => vi.unstubAllEnvs());

  it('acquire: conditional put of the lock (attribute_not_exists), run RUNNING, since=null on the first run', async () => {
    const handler = await loadHandler();
    expect(
      await handler({
        action: 'acquire',
        executionArn: ARN,
        executionName: 'run-1',
        startTime: '2024-01-01T00:00:00Z',
      }),
    ).toEqual({ acquired: true, runId: 'run-1', since: null });
    const lockPut = ddb.commandCalls(PutCommand).find((c) => c.args[0].input.Item?.pk === 'LOCK')!.args[0].input;
    expect(lockPut.TableName).toBe('ledger');
    expect(lockPut.ConditionExpression).toBe('(attribute_not_exists(#pk))');
    expect(lockPut.Item).toMatchObject({ owner: ARN, runId: 'run-1' });
    expect(
      ddb.commandCalls(PutCommand).find((c) => c.args[0].input.Item?.pk === 'RUN')!.args[0].input.Item,
    ).toMatchObject({ status: 'RUNNING', since: null });
  });

  it('acquire: takes over a lock whose owner SFN reports FAILED, conditioned on the old owner', async () => {
    const old = 'arn:aws:states:eu-west-2:1:execution:tributary-export:run-0';
    ddb.on(GetCommand, { Key: { pk: 'LOCK', sk: 'export' } }).resolves({
      Item: { pk: 'LOCK', sk: 'export', owner: old, runId: 'run-0', leaseUntil: 9_999_999_999, acquiredAt: 'x' },
    });
    sfn.on(DescribeExecutionCommand).resolves({ status: 'FAILED' });
    const handler = await loadHandler();
    expect(await handler({ action: 'acquire', executionArn: ARN, executionName: 'run-1' })).toMatchObject({
      acquired: true,
    });
    expect(sfn.commandCalls(DescribeExecutionCommand)[0]!.args[0].input).toEqual({ executionArn: old });
    const lockPut = ddb.commandCalls(PutCommand).find((c) => c.args[0].input.Item?.pk === 'LOCK')!.args[0].input;
    expect(lockPut.ConditionExpression).toBe('(#a0 = :v0)');
    expect(lockPut.ExpressionAttributeValues).toEqual({ ':v0': old });
  });

  it('acquire: a lock put that loses the race (ConditionalCheckFailed) answers acquired=false', async () => {
    ddb
      .on(PutCommand, { Item: { pk: 'LOCK' } } as never)
      .rejects(Object.assign(new Error('cc'), { name: 'ConditionalCheckFailedException' }));
    const handler = await loadHandler();
    expect(await handler({ action: 'acquire', executionArn: ARN, executionName: 'run-1' })).toMatchObject({
      acquired: false,
      reason: 'another run took the lock first',
    });
  });

  it('Step Functions Execution Status Change (TIMED_OUT): run FAILED, lock deleted only if owned by that execution', async () => {
    ddb.on(GetCommand, { Key: { pk: 'RUN', sk: 'run-1' } }).resolves({
      Item: {
        pk: 'RUN',
        sk: 'run-1',
        runId: 'run-1',
        status: 'RUNNING',
        since: null,
        startedAt: 'x',
        executionArn: ARN,
      },
    });
    const handler = await loadHandler();
    await handler({
      version: '0',
      source: 'aws.states',
      'detail-type': 'Step Functions Execution Status Change',
      detail: { executionArn: ARN, name: 'run-1', status: 'TIMED_OUT', stateMachineArn: 'arn:sm' },
    });
    expect(ddb.commandCalls(PutCommand)[0]!.args[0].input.Item).toMatchObject({
      pk: 'RUN',
      status: 'FAILED',
      error: 'Execution.TIMED_OUT',
    });
    const del = ddb.commandCalls(DeleteCommand)[0]!.args[0].input;
    expect(del.Key).toEqual({ pk: 'LOCK', sk: 'export' });
    expect(del.ConditionExpression).toBe('(#a0 = :v0)');
    expect(del.ExpressionAttributeValues).toEqual({ ':v0': ARN });
  });

  it('rejects malformed input with a named error', async () => {
    const handler = await loadHandler();
    await expect(handler({ action: 'complete', runId: 'r' })).rejects.toMatchObject({ name: 'Export.InvalidMessage' });
  });

  it('fail with RECHECK_QUEUE_URL: a failing run with a recorded job sends exactly one cancel message to the recheck queue', async () => {
    runningRun(true);
    const handler = await loadHandler({ RECHECK_QUEUE_URL });
    await handler({ action: 'fail', runId: 'run-1', executionArn: ARN, error: { Error: 'States.TaskFailed' } });
    expect(sentCancels()).toEqual([
      {
        QueueUrl: RECHECK_QUEUE_URL,
        DelaySeconds: 0,
        body: { action: 'cancel', runId: 'run-1', jobId: 'job-9', statusUrl: 'https://h/r4/export/job-9' },
      },
    ]);
  });

  it('a TIMED_OUT status change with RECHECK_QUEUE_URL sends one cancel message; no job recorded or no queue URL sends none', async () => {
    const timedOut = {
      source: 'aws.states',
      'detail-type': 'Step Functions Execution Status Change',
      detail: { executionArn: ARN, name: 'run-1', status: 'TIMED_OUT', stateMachineArn: 'arn:sm' },
    };
    runningRun(true);
    await (
      await loadHandler({ RECHECK_QUEUE_URL })
    )(timedOut);
    expect(sentCancels().map((sent) => sent.body)).toEqual([
      { action: 'cancel', runId: 'run-1', jobId: 'job-9', statusUrl: 'https://h/r4/export/job-9' },
    ]);

    sqs.resetHistory();
    vi.unstubAllEnvs();
    await (
      await loadHandler()
    )(timedOut);
    expect(sentCancels()).toEqual([]);

    ddb.reset();
    ddb.on(GetCommand).resolves({});
    ddb.on(PutCommand).resolves({});
    ddb.on(DeleteCommand).resolves({});
    runningRun(false);
    await (
      await loadHandler({ RECHECK_QUEUE_URL })
    )(timedOut);
    expect(sentCancels()).toEqual([]);
  });

  it('a cancel message that cannot be sent does not fail the ledger request (best effort): the run is FAILED, the lock released', async () => {
    runningRun(true);
    sqs.on(SendMessageCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }));
    const handler = await loadHandler({ RECHECK_QUEUE_URL });
    expect(await handler({ action: 'fail', runId: 'run-1', executionArn: ARN })).toMatchObject({ status: 'FAILED' });
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(1);
    expect(ddb.commandCalls(DeleteCommand)).toHaveLength(1);
  });
});
