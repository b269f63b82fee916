import type { Partition } from '../lake/layout.js';
import { toTimedChangeRecord } from './change-record.js';
import { ChangeRecordError } from './errors.js';
import { stringifyLossless } from './lossless-json-line.js';
import { DEFAULT_PARTITION_BY, partitionsFor } from './partitions.js';
import type { ChangeRecord, EventTimeSource } from './types.js';

/**
 * What the batch processor needs of a table: the config file's table entry fits as is.
 */
export interface ChangeStreamTableConfig {
  name: string;
  ttlAttribute?: string | undefined;
  pipe?: { partitionBy?: readonly string[] | undefined; eventTime?: EventTimeSource | undefined } | undefined;
}

/** A record that became a change record, with its partitions and its NDJSON line (no newline). */
export interface ProcessedChange {
  record: ChangeRecord;
  partitions: Partition[];
  line: string;
  eventTime: Date;
}

/** A record that could not be processed. `raw` may hold PHI: send it to the error location only. */
export interface FailedChange {
  eventId: string | undefined;
  reason: string;
  errorType: string;
  raw: unknown;
}

/** Outcome of {@link changeRecordsForBatch}. */
export interface BatchResult {
  ok: ProcessedChange[];
  failed: FailedChange[];
}

function eventIdOf(raw: unknown): string | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const id = (raw as { eventID?: unknown }).eventID;
  return typeof id === 'string' ? id : undefined;
}

/**
 * Turns one batch of stream records into change records, partitions and NDJSON lines. A bad record
 * lands in `failed` with a PHI-free reason; it never fails the batch. Order is kept.
 *
 * @example
 * const { ok, failed } = changeRecordsForBatch(records, { name: 'Visits', pipe: { partitionBy: ['siteId', 'year'] } });
 * for (const { partitions, line } of ok) await writer.add(lakeLayout.changes('Visits') + hivePath(partitions), line, seq);
 */
export function changeRecordsForBatch(streamRecords: readonly unknown[], table: ChangeStreamTableConfig): BatchResult {
  const spec = table.pipe?.partitionBy ?? DEFAULT_PARTITION_BY;
  const options = { table: table.name, eventTime: table.pipe?.eventTime, ttlAttribute: table.ttlAttribute };
  const ok: ProcessedChange[] = [];
  const failed: FailedChange[] = [];
  for (const raw of streamRecords) {
    try {
      const { record, eventTime } = toTimedChangeRecord(raw, options);
      const partitions = partitionsFor(record, spec, eventTime);
      ok.push({ record, partitions, line: stringifyLossless(record), eventTime });
    } catch (error) {
      if (error instanceof ChangeRecordError) {
        failed.push({ eventId: eventIdOf(raw), reason: error.reason, errorType: error.errorType, raw });
      } else {
        // An unexpected error's message could quote data; keep only its class name.
        const name = error instanceof Error ? error.name : 'non-error thrown';
        failed.push({ eventId: eventIdOf(raw), reason: `unexpected ${name}`, errorType: 'UnexpectedError', raw });
      }
    }
  }
  return { ok, failed };
}
