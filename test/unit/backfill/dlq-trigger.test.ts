import { describe, expect, it } from 'vitest';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
} from '@aws-sdk/client-sqs';
import { repairInputOf, scanDeadLetterQueue, trimmedDataFailureOf } from '../../../src/backfill/dlq-trigger.js';
import { parseBackfillInput } from '../../../src/backfill/workflow-input.js';

const batchInfo = {
  shardId: 'shardId-00000001234567891234-aaa1abcd',
  startSequenceNumber: '1234567800000000001234567891',
  endSequenceNumber: '1234567800000000001234567899',
  approximateArrivalOfFirstRecord: '2024-03-08T00:00:00Z',
  approximateArrivalOfLastRecord: '2024-03-08T00:00:30Z',
  batchSize: 3,
  streamArn: 'arn:aws:dynamodb:eu-west-2:123456789123:table/visits/stream/2023-01-01T00:00:00Z',
};
const pipeMessage = (condition: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    context: { partnerResourceArn: 'arn:aws:pipes:eu-west-2:123456789123:pipe/visits', condition, ...extra },
    version: '1.0',
    timestamp: '2024-03-09T00:00:00Z',
    DDBStreamBatchInfo: batchInfo,
  });

describe('trimmedDataFailureOf: which Pipes DLQ messages are trimmed-data failures', () => {
  it('recognises aged-out records and trimmed/expired errors, with the batch arrival times', () => {
    for (const condition of ['MaximumRecordAgeExceeded', 'RecordAgeExceeded', 'RecordsExpired'])
      expect(trimmedDataFailureOf(pipeMessage(condition))).toEqual({
        firstArrival: '2024-03-08T00:00:00.000Z',
        lastArrival: '2024-03-08T00:00:30.000Z',
      });
    expect(
      trimmedDataFailureOf(pipeMessage('RetryAttemptsExhausted', { errorCode: 'TrimmedDataAccessException' })),
    ).toBeDefined();
    // The Lambda event-source shape (requestContext) too.
    expect(
      trimmedDataFailureOf(
        JSON.stringify({ requestContext: { condition: 'RecordAgeExceeded' }, DDBStreamBatchInfo: { batchSize: 1 } }),
      ),
    ).toEqual({});
  });

  it('leaves everything else alone: exhausted retries, other shapes, not JSON', () => {
    expect(trimmedDataFailureOf(pipeMessage('RetryAttemptsExhausted'))).toBeUndefined();
    expect(trimmedDataFailureOf('{"context":{"condition":"RecordAgeExceeded"}}')).toBeUndefined();
    expect(trimmedDataFailureOf('not json')).toBeUndefined();
    expect(trimmedDataFailureOf(undefined)).toBeUndefined();
  });
});

describe('repairInputOf', () => {
  it('INCREMENTAL over every failed batch with a margin; FULL when an arrival time is missing', () => {
    const input = repairInputOf('visits', [
      { firstArrival: '2024-03-08T00:00:00.000Z', lastArrival: '2024-03-08T00:00:30.000Z' },
      { firstArrival: '2024-03-07T23:00:00.000Z' },
    ]);
    expect(input).toEqual({
      table: 'visits',
      mode: 'INCREMENTAL',
      exportFromTime: '2024-03-07T22:59:00.000Z',
      exportToTime: '2024-03-08T00:01:30.000Z',
    });
    expect(parseBackfillInput(input)).toEqual(input);
    expect(repairInputOf('visits', [{ firstArrival: '2024-03-08T00:00:00.000Z' }, {}])).toEqual({
      table: 'visits',
      mode: 'FULL',
    });
  });
});

/** An in-memory SQS queue: receive hides messages for the visibility timeout (time is not simulated: hidden until released). */
function fakeQueue(bodies: string[]) {
  const messages = bodies.map((Body, i) => ({ MessageId: `m-${i}`, ReceiptHandle: `rh-${i}`, Body, hidden: false }));
  const calls: string[] = [];
  const sqs = {
    send: async (command: unknown) => {
      if (command instanceof ReceiveMessageCommand) {
        calls.push('receive');
        const batch = messages.filter((m) => !m.hidden).slice(0, command.input.MaxNumberOfMessages ?? 1);
        for (const m of batch) m.hidden = true;
        return {
          Messages: batch.map(({ MessageId, ReceiptHandle, Body }): Message => ({ MessageId, ReceiptHandle, Body })),
        };
      }
      if (command instanceof DeleteMessageBatchCommand) {
        calls.push('delete');
        for (const entry of command.input.Entries ?? [])
          messages.splice(
            messages.findIndex((m) => m.ReceiptHandle === entry.ReceiptHandle),
            1,
          );
        return {};
      }
      if (command instanceof ChangeMessageVisibilityBatchCommand) {
        calls.push('release');
        for (const entry of command.input.Entries ?? []) {
          const m = messages.find((x) => x.ReceiptHandle === entry.ReceiptHandle);
          if (m && entry.VisibilityTimeout === 0) m.hidden = false;
        }
        return {};
      }
      throw new Error('unexpected command');
    },
  };
  return { sqs, messages, calls };
}

describe('scanDeadLetterQueue: peeks, repairs trimmed-data failures, loses nothing', () => {
  const queue = { queueUrl: 'https://sqs.eu-west-2.amazonaws.com/123456789123/visits-dlq', table: 'visits' };

  it('starts one repair for all trimmed-data failures, deletes them, and releases every other message', async () => {
    const bodies = [
      pipeMessage('RetryAttemptsExhausted'),
      pipeMessage('MaximumRecordAgeExceeded'),
      ...Array.from({ length: 12 }, () => pipeMessage('RetryAttemptsExhausted')),
      pipeMessage('RecordAgeExceeded'),
    ];
    const { sqs, messages } = fakeQueue(bodies);
    const started: Array<{ name: string; input: unknown }> = [];
    const scan = await scanDeadLetterQueue({
      sqs,
      queue,
      startRepair: async (name, input) => {
        started.push({ name, input });
      },
    });
    expect(scan).toMatchObject({ table: 'visits', seen: 15, trimmed: 2 });
    expect(started).toHaveLength(1);
    expect(started[0]!.name).toMatch(/^repair-visits-[0-9a-f]{16}$/);
    expect(started[0]!.input).toMatchObject({ table: 'visits', mode: 'INCREMENTAL' });
    expect(messages).toHaveLength(13);
    expect(messages.every((m) => !m.hidden && m.Body.includes('RetryAttemptsExhausted'))).toBe(true);
  });

  it('when the repair cannot start, nothing is deleted and everything is released', async () => {
    const { sqs, messages, calls } = fakeQueue([
      pipeMessage('RecordAgeExceeded'),
      pipeMessage('RetryAttemptsExhausted'),
    ]);
    await expect(
      scanDeadLetterQueue({
        sqs,
        queue,
        startRepair: async () => {
          throw new Error('throttled');
        },
      }),
    ).rejects.toThrow('throttled');
    expect(calls).not.toContain('delete');
    expect(messages.map((m) => m.hidden)).toEqual([false, false]);
  });

  it('a repair these messages already started (ExecutionAlreadyExists) counts as started: they are deleted', async () => {
    const { sqs, messages } = fakeQueue([pipeMessage('RecordAgeExceeded'), pipeMessage('RetryAttemptsExhausted')]);
    const scan = await scanDeadLetterQueue({
      sqs,
      queue,
      startRepair: async () => {
        throw Object.assign(new Error('Execution Already Exists'), { name: 'ExecutionAlreadyExists' });
      },
    });
    expect(scan.executionName).toMatch(/^repair-visits-/);
    expect(messages.map((m) => m.Body.includes('RetryAttemptsExhausted'))).toEqual([true]);
    expect(messages[0]!.hidden).toBe(false);
  });

  it('an empty queue starts nothing', async () => {
    const { sqs } = fakeQueue([]);
    const scan = await scanDeadLetterQueue({ sqs, queue, startRepair: () => Promise.reject(new Error('no')) });
    expect(scan).toEqual({ table: 'visits', seen: 0, trimmed: 0 });
  });
});
