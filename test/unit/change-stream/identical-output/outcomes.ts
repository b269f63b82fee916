/**
 * What the change path makes of the test inputs, in a comparable form: per record its line, partitions and event time
 * (or its failure), the lake files `landChangeBatch` writes (key and sha256 of the gzip bytes), and a digest of the
 * Firehose transform's result. Uses only APIs that existed at commit c62475b (see generate-expected.ts).
 */
import { createHash } from 'node:crypto';
import { changeRecordsForBatch, transformFirehoseRecords } from '../../../../src/change-stream/index.js';
import type { ChangeStreamTableConfig } from '../../../../src/change-stream/index.js';
import { ErrorSink } from '../../../../src/lake/error-sink.js';
import { landChangeBatch } from '../../../../src/lake/land-change-batch.js';
import { PartitionedNdjsonWriter } from '../../../../src/lake/partitioned-ndjson-writer.js';
import { MemoryObjectStore } from '../../lake/memory-store.js';
import { WRITER_OPTIONS } from './inputs.js';

/** One record's outcome. */
export type Outcome =
  | { line: string; partitions: Array<readonly [string, string]>; eventTime: string }
  | { eventId: string | undefined; reason: string; errorType: string };

/**
 * Each record on its own, then all of them as one batch (the order of `ok` and `failed` must match too).
 *
 * @example
 * changeOutcomes(streamRecordInputs(), TABLES[0]);
 */
export function changeOutcomes(inputs: readonly unknown[], table: ChangeStreamTableConfig): Outcome[] {
  const { ok, failed } = changeRecordsForBatch(inputs, table);
  return [
    ...ok.map((change) => ({
      line: change.line,
      partitions: change.partitions.map(([name, value]) => [name, value] as const),
      eventTime: change.eventTime.toISOString(),
    })),
    ...failed.map((failure) => ({ eventId: failure.eventId, reason: failure.reason, errorType: failure.errorType })),
  ];
}

const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

/**
 * The files `landChangeBatch` lands (batches of 37 records, small writer limits), errors included: `key sha256`.
 *
 * @example
 * await lakeFiles(streamRecordInputs(), TABLES[1]);
 */
export async function lakeFiles(inputs: readonly unknown[], table: ChangeStreamTableConfig): Promise<string[]> {
  const store = new MemoryObjectStore();
  const writer = new PartitionedNdjsonWriter({ store, ...WRITER_OPTIONS });
  const errors = new ErrorSink({ store, pipeline: 'identical', clock: { now: () => new Date(Date.UTC(2024, 5, 1)) } });
  for (let index = 0; index < inputs.length; index += 37)
    await landChangeBatch({ records: inputs.slice(index, index + 37), table, writer, errors });
  await writer.flush();
  await errors.flush();
  return [...store.objects].map(([key, body]) => `${key} ${sha256(body)}`).sort();
}

/**
 * sha256 of the Firehose transform's records (JSON) and failures, for records that are JSON objects.
 *
 * @example
 * firehoseOutcome(streamRecordInputs(), TABLES[0]);
 */
export function firehoseOutcome(inputs: readonly unknown[], table: ChangeStreamTableConfig): string {
  const records = inputs.map((input, index) => ({
    recordId: String(index),
    approximateArrivalTimestamp: 0,
    data: Buffer.from(JSON.stringify(input) ?? 'undefined', 'utf8').toString('base64'),
  }));
  return sha256(JSON.stringify(transformFirehoseRecords(records, table)));
}
