/**
 * Starts a repair when a change pipe's dead-letter queue holds a trimmed-data failure.
 *
 * An EventBridge Pipe with a DynamoDB stream source sends a DLQ message that describes the failed batch but carries
 * none of its records:
 *
 * ```json
 * { "context": { "partnerResourceArn": "arn:aws:pipes:…:pipe/…", "condition": "RetryAttemptsExhausted" },
 *   "version": "1.0", "timestamp": "…",
 *   "DDBStreamBatchInfo": { "shardId": "…", "startSequenceNumber": "…", "endSequenceNumber": "…",
 *     "approximateArrivalOfFirstRecord": "2024-03-08T00:00:00Z", "approximateArrivalOfLastRecord": "…",
 *     "batchSize": 1, "streamArn": "arn:aws:dynamodb:…:table/T/stream/…" } }
 * ```
 *
 * A **trimmed-data failure** is one whose records the stream no longer holds (or never handed over): the condition
 * says the records aged out (`…RecordAge…`, `…Expired…`, `…Trim…`), or the message names `TrimmedDataAccessException`
 * or `ExpiredIteratorException`. Only an export can bring those changes back, so the repair exports the table
 * INCREMENTALly over the batch's arrival times (FULL when they are missing). Any other message (a poison record that
 * exhausted its retries, say) stays in the DLQ untouched, for an operator.
 *
 * The scan only peeks: it receives with a short visibility timeout, deletes the trimmed-data messages once their
 * repair has started, and makes every other message visible again at once. Nothing is moved or consumed.
 */
import { createHash } from 'node:crypto';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { BackfillInput } from './workflow-input.js';

/** What a trimmed-data failure tells about the lost batch. */
export interface TrimmedDataFailure {
  /** Approximate arrival of the batch's first and last records (ISO-8601), when the message has them. */
  firstArrival?: string;
  lastArrival?: string;
}

const TRIMMED_CONDITION = /record.?age|expired|trim/i;
const TRIMMED_ERRORS = /TrimmedDataAccessException|ExpiredIteratorException/;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isoOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' && !Number.isNaN(Date.parse(value)) ? new Date(value).toISOString() : undefined;
}

/**
 * Recognises a trimmed-data failure in a DLQ message body; undefined for anything else (left in the queue).
 *
 * @example
 * trimmedDataFailureOf('{"context":{"condition":"MaximumRecordAgeExceeded"},"DDBStreamBatchInfo":{"approximateArrivalOfFirstRecord":"2024-03-08T00:00:00Z"}}')
 * // { firstArrival: '2024-03-08T00:00:00.000Z' }
 */
export function trimmedDataFailureOf(body: string | undefined): TrimmedDataFailure | undefined {
  if (!body) return undefined;
  let message: unknown;
  try {
    message = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (!isObject(message) || !isObject(message['DDBStreamBatchInfo'])) return undefined;
  const context = isObject(message['context'])
    ? message['context']
    : isObject(message['requestContext'])
      ? message['requestContext']
      : {};
  const condition = typeof context['condition'] === 'string' ? context['condition'] : '';
  if (!TRIMMED_CONDITION.test(condition) && !TRIMMED_ERRORS.test(body)) return undefined;
  const info = message['DDBStreamBatchInfo'];
  const firstArrival = isoOrUndefined(info['approximateArrivalOfFirstRecord']);
  const lastArrival = isoOrUndefined(info['approximateArrivalOfLastRecord']);
  return { ...(firstArrival ? { firstArrival } : {}), ...(lastArrival ? { lastArrival } : {}) };
}

/** Seconds either side of the batch's arrival times covered by the repair (arrival times are approximate). */
export const REPAIR_MARGIN_SECONDS = 60;

/**
 * The repair's state machine input for the trimmed-data failures of one table: INCREMENTAL over all their batches
 * (widened by {@link REPAIR_MARGIN_SECONDS}), FULL when any lacks its arrival times.
 *
 * @example
 * repairInputOf('visits', [{ firstArrival: '2024-03-08T00:00:00.000Z', lastArrival: '2024-03-08T00:00:05.000Z' }])
 * // { table: 'visits', mode: 'INCREMENTAL', exportFromTime: '2024-03-07T23:59:00.000Z', exportToTime: '2024-03-08T00:01:05.000Z' }
 */
export function repairInputOf(table: string, failures: readonly TrimmedDataFailure[]): BackfillInput {
  if (failures.length === 0 || failures.some((f) => f.firstArrival === undefined)) return { table, mode: 'FULL' };
  const from = Math.min(...failures.map((f) => Date.parse(f.firstArrival!)));
  const to = Math.max(...failures.map((f) => Date.parse(f.lastArrival ?? f.firstArrival!)));
  const margin = REPAIR_MARGIN_SECONDS * 1000;
  return {
    table,
    mode: 'INCREMENTAL',
    exportFromTime: new Date(from - margin).toISOString(),
    exportToTime: new Date(to + margin).toISOString(),
  };
}

/** One pipe DLQ and the config table whose pipe it belongs to. */
export interface WatchedDeadLetterQueue {
  queueUrl: string;
  table: string;
}

/** What one scan did; ids and counts only. */
export interface DeadLetterScan {
  table: string;
  /** Messages looked at. */
  seen: number;
  /** Trimmed-data failures found (deleted once their repair started). */
  trimmed: number;
  /** The repair started, if any. */
  executionName?: string;
}

/** Options of {@link scanDeadLetterQueue}. */
export interface ScanOptions {
  sqs: Pick<SQSClient, 'send'>;
  queue: WatchedDeadLetterQueue;
  /** Starts the repair; must be idempotent on `name` (Step Functions StartExecution is, for the same input). */
  startRepair: (name: string, input: BackfillInput) => Promise<void>;
  /** Most messages looked at per scan. Default 1,000. */
  maxMessages?: number;
  /** Seconds a peeked message stays hidden if the scan dies before releasing it. Default 120. */
  holdSeconds?: number;
}

/**
 * Peeks at every message of one pipe DLQ, starts one repair for its trimmed-data failures, deletes those (only after
 * the repair started) and releases the others at once. The repair's name derives from the failures' message ids, so a
 * scan that dies after starting it and is run again starts nothing new.
 *
 * @example
 * await scanDeadLetterQueue({ sqs, queue: { queueUrl, table: 'visits' }, startRepair: (name, input) => start(name, input) });
 */
export async function scanDeadLetterQueue(options: ScanOptions): Promise<DeadLetterScan> {
  const { sqs, queue } = options;
  const maxMessages = options.maxMessages ?? 1000;
  const seenIds = new Set<string>();
  const trimmed: Array<{ message: Message; failure: TrimmedDataFailure }> = [];
  const others: Message[] = [];
  try {
    while (seenIds.size < maxMessages) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queue.queueUrl,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: options.holdSeconds ?? 120,
          WaitTimeSeconds: 1,
        }),
      );
      const fresh = Messages.filter((m) => m.MessageId !== undefined && !seenIds.has(m.MessageId));
      if (fresh.length === 0) break;
      for (const message of fresh) {
        seenIds.add(message.MessageId!);
        const failure = trimmedDataFailureOf(message.Body);
        if (failure) trimmed.push({ message, failure });
        else others.push(message);
      }
    }
    const scan: DeadLetterScan = { table: queue.table, seen: seenIds.size, trimmed: trimmed.length };
    if (trimmed.length === 0) return scan;
    const ids = trimmed.map((t) => t.message.MessageId!).sort();
    const hash = createHash('sha256').update(ids.join(',')).digest('hex').slice(0, 16);
    const executionName = `repair-${queue.table.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40)}-${hash}`;
    try {
      await options.startRepair(
        executionName,
        repairInputOf(
          queue.table,
          trimmed.map((t) => t.failure),
        ),
      );
    } catch (error) {
      // The same messages already started this execution (a scan that died before deleting them, or a delete that
      // failed): Step Functions refuses a used name once that execution has closed. The repair ran: delete them.
      if ((error as Error).name !== 'ExecutionAlreadyExists') {
        // Not started: the failures go back to the queue with the others, for the next scan.
        others.push(...trimmed.map((t) => t.message));
        throw error;
      }
    }
    const undeleted: string[] = [];
    for (let i = 0; i < trimmed.length; i += 10) {
      const batch = trimmed.slice(i, i + 10);
      const { Failed = [] } = await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queue.queueUrl,
          Entries: batch.map((t, j) => ({ Id: String(j), ReceiptHandle: t.message.ReceiptHandle! })),
        }),
      );
      for (const failed of Failed) undeleted.push(batch[Number(failed.Id)]?.message.MessageId ?? String(failed.Id));
    }
    // Left in the queue, they name the same execution next time, which then counts as started (above).
    if (undeleted.length > 0)
      throw new Error(`started ${executionName}, but ${undeleted.length} message(s) could not be deleted from the DLQ`);
    return { ...scan, executionName };
  } finally {
    for (let i = 0; i < others.length; i += 10) {
      await sqs
        .send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: queue.queueUrl,
            Entries: others.slice(i, i + 10).map((m, j) => ({
              Id: String(j),
              ReceiptHandle: m.ReceiptHandle!,
              VisibilityTimeout: 0,
            })),
          }),
        )
        .catch(() => undefined); // they become visible anyway when the hold ends
    }
  }
}
