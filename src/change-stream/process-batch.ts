import type { Partition } from '../lake/layout.js';
import { toTimedChangeRecord } from './change-record.js';
import { changeLineOf, type ChangeLineOptions } from './change-line.js';
import { ChangeRecordError } from './errors.js';
import { stringifyLossless } from './lossless-json-line.js';
import { DEFAULT_PARTITION_BY, partitionsFor } from './partitions.js';
import type { ChangeRecord, ChangeRecordOptions, EventTimeSource } from './types.js';

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
  /** The record's id in the writer (`record.seq ?? record.eventId`), when known without building `record`. */
  id?: string;
}

/**
 * A change made by the direct path ({@link changeLineOf}): `record` is built from the stream record only if asked for
 * (the line, partitions and id do not need it).
 */
class LineChange implements ProcessedChange {
  #record: ChangeRecord | undefined;
  public constructor(
    private readonly raw: unknown,
    private readonly options: ChangeRecordOptions,
    public readonly line: string,
    public readonly partitions: Partition[],
    public readonly eventTime: Date,
    public readonly id: string,
  ) {}

  public get record(): ChangeRecord {
    this.#record ??= toTimedChangeRecord(this.raw, this.options).record;
    return this.#record;
  }
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

/**
 * A change record made by the reference path, with its partitions (from `spec` and the event time) and its line.
 *
 * @example
 * const change = processedChange(record, ['year', 'month'], new Date(record.ts));
 */
export function processedChange(record: ChangeRecord, spec: readonly string[], eventTime: Date): ProcessedChange {
  return { record, partitions: partitionsFor(record, spec, eventTime), line: stringifyLossless(record), eventTime };
}

/**
 * Why an input could not become a change record, PHI-free: a {@link ChangeRecordError}'s reason, else only the
 * error's class name (an unexpected error's message could quote data).
 *
 * @example
 * failed.push(failedChange(error, raw, eventIdOf(raw)));
 */
export function failedChange(error: unknown, raw: unknown, eventId: string | undefined): FailedChange {
  if (error instanceof ChangeRecordError) return { eventId, reason: error.reason, errorType: error.errorType, raw };
  const name = error instanceof Error ? error.name : 'non-error thrown';
  return { eventId, reason: `unexpected ${name}`, errorType: 'UnexpectedError', raw };
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
  const options: ChangeLineOptions = {
    table: table.name,
    eventTime: table.pipe?.eventTime,
    ttlAttribute: table.ttlAttribute,
    partitionBy: spec,
  };
  const ok: ProcessedChange[] = [];
  const failed: FailedChange[] = [];
  for (const raw of streamRecords) {
    // The direct path writes the line from DynamoDB JSON; what it does not take goes the reference way below.
    const fast = changeLineOf(raw, options);
    if (fast !== undefined) {
      ok.push(new LineChange(raw, options, fast.line, fast.partitions, fast.eventTime, fast.id));
      continue;
    }
    try {
      const { record, eventTime } = toTimedChangeRecord(raw, options);
      ok.push(processedChange(record, spec, eventTime));
    } catch (error) {
      failed.push(failedChange(error, raw, eventIdOf(raw)));
    }
  }
  return { ok, failed };
}
