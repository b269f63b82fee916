import { createHash } from 'node:crypto';
import { stringifyLossless } from '../change-stream/lossless-json-line.js';
import { systemClock } from '../ports/clock.js';
import type { Clock } from '../ports/clock.js';
import { datePartitions, hivePath, lakeLayout } from './layout.js';
import { PartitionedNdjsonWriter } from './partitioned-ndjson-writer.js';
import type { ErrorEntry, ErrorSinkOptions, WriterStats, WrittenFile } from './types.js';

/**
 * Lands rejected records under `_errors/<pipeline>/year=YYYY/month=MM/day=DD/` as gzip NDJSON lines
 * `{reason, errorType, eventId?, source?, record}`. The record may hold PHI, so it is written here
 * and nowhere else (log only ids, types and counts). File names are deterministic, as for the lake.
 *
 * @example
 * const errors = new ErrorSink({ store, pipeline: 'changes-Visits' });
 * await errors.add({ reason: failed.reason, errorType: failed.errorType, eventId: failed.eventId, record: failed.raw });
 * await errors.flush();
 */
export class ErrorSink {
  readonly #writer: PartitionedNdjsonWriter;
  readonly #prefix: string;
  readonly #clock: Clock;
  readonly #added = new Map<string, number>();
  /** `errorType` + event id of entries buffered since the last flush: a retried batch must not add them twice. */
  readonly #buffered = new Set<string>();

  public constructor(options: ErrorSinkOptions) {
    this.#writer = new PartitionedNdjsonWriter({ store: options.store, maxBytes: options.maxBytes ?? 1024 * 1024 });
    this.#prefix = lakeLayout.errors(options.pipeline);
    this.#clock = options.clock ?? systemClock;
  }

  /** Where the entries go, `_errors/<pipeline>/`, for log lines. */
  public get location(): string {
    return this.#prefix;
  }

  /** Entries added so far, per errorType (written or still buffered). */
  public get addedByType(): ReadonlyMap<string, number> {
    return this.#added;
  }

  /** Totals so far (records = rejected records written). */
  public get stats(): Readonly<WriterStats> {
    return this.#writer.stats;
  }

  /**
   * Buffers one rejected record. A write this triggers that fails does not reject: the writer keeps the lines and the
   * next {@link ErrorSink.flush} retries them (and reports the failure), so an entry once added is never lost.
   *
   * @example
   * await errors.add({ reason: 'eventName must be INSERT, MODIFY or REMOVE', errorType: 'InvalidStreamRecord', record: raw });
   */
  public async add(entry: ErrorEntry): Promise<WrittenFile[]> {
    const line = stringifyLossless({
      reason: entry.reason,
      errorType: entry.errorType,
      eventId: entry.eventId,
      source: entry.source,
      record: entry.record,
    });
    const id =
      entry.eventId ??
      (entry.source?.file !== undefined ? `${entry.source.file}:${entry.source.line ?? ''}` : undefined);
    // Without an id the content itself names the file, which is still stable across retries.
    const stableId = id ?? createHash('sha256').update(line).digest('hex').slice(0, 24);
    if (entry.eventId !== undefined) {
      const key = `${entry.errorType}\0${entry.eventId}`;
      if (this.#buffered.has(key)) return [];
      this.#buffered.add(key);
    }
    this.#added.set(entry.errorType, (this.#added.get(entry.errorType) ?? 0) + 1);
    return this.#writer
      .add(this.#prefix + hivePath(datePartitions(this.#clock.now())), line, stableId)
      .catch((): WrittenFile[] => []);
  }

  /**
   * Writes everything buffered.
   *
   * @example
   * await errors.flush();
   */
  public async flush(): Promise<WrittenFile[]> {
    const files = await this.#writer.flush();
    this.#buffered.clear();
    return files;
  }

  /**
   * Flushes and closes.
   *
   * @example
   * await errors.close();
   */
  public close(): Promise<WrittenFile[]> {
    return this.#writer.close();
  }
}
