import { changeRecordsForBatch } from '../change-stream/process-batch.js';
import type { ChangeStreamTableConfig } from '../change-stream/process-batch.js';
import type { CompiledFilters } from '../event-pattern/types.js';
import type { ErrorSink } from './error-sink.js';
import { hivePath, lakeLayout } from './layout.js';
import type { PartitionedNdjsonWriter } from './partitioned-ndjson-writer.js';
import type { WrittenFile } from './types.js';

/** Counts from {@link landChangeBatch}; ids and counts only, safe to log. */
export interface LandedBatch {
  /** Records the filters dropped (as a pipe's FilterCriteria would). */
  filteredOut: number;
  /** Change records buffered for the lake. */
  landed: number;
  /** Records sent to the error location. */
  failed: number;
  /** Event ids of the failed records. */
  failedEventIds: string[];
  /** Files written while buffering (size or partition-count triggered). */
  files: WrittenFile[];
}

/**
 * The lake target of a change-stream pipe: filter → change records → partitioned NDJSON, with bad
 * records to the error sink. Call `writer.flush()` (and `errors.flush()`) before checkpointing.
 *
 * @example
 * const result = await landChangeBatch({ records, table, filters: compileFilters(table.pipe.filter), writer, errors });
 */
export async function landChangeBatch(input: {
  records: readonly unknown[];
  table: ChangeStreamTableConfig;
  filters?: CompiledFilters | undefined;
  writer: PartitionedNdjsonWriter;
  errors: ErrorSink;
}): Promise<LandedBatch> {
  const { filters, writer, errors, table } = input;
  const passed = filters === undefined ? input.records : input.records.filter((record) => filters.test(record));
  const { ok, failed } = changeRecordsForBatch(passed, table);
  const prefix = lakeLayout.changes(table.name);
  const files: WrittenFile[] = [];
  for (const change of ok) {
    const written = await writer.add(prefix + hivePath(change.partitions), change.line, change.record.seq);
    if (written.length > 0) files.push(...written);
  }
  for (const failure of failed) {
    await errors.add({
      reason: failure.reason,
      errorType: failure.errorType,
      eventId: failure.eventId,
      record: failure.raw,
    });
  }
  return {
    filteredOut: input.records.length - passed.length,
    landed: ok.length,
    failed: failed.length,
    failedEventIds: failed.flatMap((failure) => (failure.eventId === undefined ? [] : [failure.eventId])),
    files,
  };
}
