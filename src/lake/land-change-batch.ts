import { changeRecordsForBatch } from '../change-stream/process-batch.js';
import type { BatchResult, ChangeStreamTableConfig } from '../change-stream/process-batch.js';
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
  /**
   * Size-triggered writes that failed while buffering. Their lines stay buffered in the writer (nothing is lost and
   * the whole batch is buffered); the next `writer.flush()` retries them and reports a lasting failure.
   */
  writeFailures: number;
}

/**
 * The lake target of a change-stream pipe: filter → change records → partitioned NDJSON, with bad
 * records to the error sink. Call `writer.flush()` (and `errors.flush()`) before checkpointing. The whole batch is
 * always buffered, even when a write it triggers fails, so a caller never has to replay (and double) part of it.
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
  const landed = await landProcessedChanges({ result: changeRecordsForBatch(passed, table), table, writer, errors });
  return { filteredOut: input.records.length - passed.length, ...landed };
}

/**
 * Lands change records already made (from a stream batch, or from an export's lines): each line to the table's
 * partition in the writer, each failure to the error sink. The whole result is always buffered, even when a write it
 * triggers fails (see {@link LandedBatch.writeFailures}).
 *
 * @example
 * await landProcessedChanges({ result: changeRecordsForExportLines(lines, table, context), table, writer, errors });
 */
export async function landProcessedChanges(input: {
  result: BatchResult;
  table: { name: string };
  writer: PartitionedNdjsonWriter;
  errors: ErrorSink;
}): Promise<Omit<LandedBatch, 'filteredOut'>> {
  const { result, writer, errors } = input;
  const { ok, failed } = result;
  const prefix = lakeLayout.changes(input.table.name);
  const files: WrittenFile[] = [];
  let writeFailures = 0;
  for (const change of ok) {
    try {
      const written = await writer.add(
        prefix + hivePath(change.partitions),
        change.line,
        change.id ?? change.record.seq ?? change.record.eventId,
      );
      if (written.length > 0) files.push(...written);
    } catch {
      // The writer buffered the line and kept the failed write's lines; stopping here would leave half a batch.
      writeFailures += 1;
    }
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
    landed: ok.length,
    failed: failed.length,
    failedEventIds: failed.flatMap((failure) => (failure.eventId === undefined ? [] : [failure.eventId])),
    files,
    writeFailures,
  };
}
