import { SendMessageBatchCommand, type SendMessageBatchRequestEntry, type SQSClient } from '@aws-sdk/client-sqs';
import { PatientEnrichmentError } from './errors.js';
import type { EnrichmentFailure, PatientStreamRecord } from './types.js';

/** SQS allows 10 messages and 256 KB per SendMessageBatch. */
const MAX_MESSAGES = 10;
const MAX_BYTES = 256 * 1024;

/** A rejected record as parked on the dead-letter queue: the reason and the untouched stream record. */
export interface DeadLetter extends EnrichmentFailure {
  record: PatientStreamRecord | undefined;
}

/** Raised when the dead-letter queue did not accept every message. */
export class DeadLetterQueueError extends PatientEnrichmentError {
  public override readonly name = 'DeadLetterQueueError';
}

/**
 * Parks records that could not be enriched on an SQS queue (encrypted at rest), so nothing is lost.
 * Throws {@link DeadLetterQueueError} when any message is not accepted, so the caller can fail
 * the batch and have it retried rather than drop records.
 *
 * @example
 * await sendToDeadLetterQueue(sqs, process.env.TRIBUTARY_ENRICHMENT_DLQ_URL!, letters);
 */
export async function sendToDeadLetterQueue(
  sqs: SQSClient,
  queueUrl: string,
  letters: readonly DeadLetter[],
): Promise<void> {
  const bodies = letters.map((letter) => JSON.stringify(letter));
  let chunk: SendMessageBatchRequestEntry[] = [];
  let bytes = 0;
  const flush = async () => {
    if (chunk.length === 0) return;
    const response = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: chunk }));
    const failed = response.Failed ?? [];
    if (failed.length > 0) {
      throw new DeadLetterQueueError(
        `dead-letter queue rejected ${failed.length} message(s): ${failed.map((f) => f.Code).join(', ')}`,
      );
    }
    chunk = [];
    bytes = 0;
  };
  for (const [index, body] of bodies.entries()) {
    const size = Buffer.byteLength(body, 'utf8');
    if (size > MAX_BYTES)
      throw new DeadLetterQueueError(`dead letter of event ${letters[index]?.eventId} exceeds 256 KB`);
    if (chunk.length === MAX_MESSAGES || bytes + size > MAX_BYTES) await flush();
    chunk.push({ Id: String(index), MessageBody: body });
    bytes += size;
  }
  await flush();
}
