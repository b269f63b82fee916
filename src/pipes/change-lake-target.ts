import { parse } from 'lossless-json';
import type { TableConfig } from '../config/schema.js';
import type { ErrorSink } from '../lake/error-sink.js';
import { landChangeBatch } from '../lake/land-change-batch.js';
import type { PartitionedNdjsonWriter } from '../lake/partitioned-ndjson-writer.js';
import type { Clock } from '../ports/clock.js';
import { systemClock } from '../ports/clock.js';
import { failureType, isUnwritablePath } from './failure-type.js';
import type { PipeTarget } from './types.js';

/** Options of {@link ChangeLakeTarget}. */
export interface ChangeLakeTargetOptions {
  table: TableConfig;
  writer: PartitionedNdjsonWriter;
  errors: ErrorSink;
  /** Buffer interval (Firehose IntervalInSeconds). */
  flushSeconds: number;
  clock?: Clock;
}

/**
 * The local stand-in for Firehose with dynamic partitioning: stream records become change records
 * in Hive partitions of gzip NDJSON; records that cannot be mapped go to `_errors/` with the reason
 * and the rest of the batch goes on. `deliver` buffers the whole batch or throws having buffered none of it (a failed
 * write keeps its lines in the writer for the next flush), so the runner may retry a batch without doubling lines.
 *
 * @example
 * const target = new ChangeLakeTarget({ table, writer, errors, flushSeconds: 60 });
 * await target.deliver(records);
 * await target.flush();
 */
export class ChangeLakeTarget implements PipeTarget {
  private readonly clock: Clock;
  private lastFlush: number;
  /** Something was delivered since the last flush (it may sit in the writer until the next one). */
  private buffered = false;
  public landed = 0;
  public failed = 0;

  public constructor(private readonly options: ChangeLakeTargetOptions) {
    this.clock = options.clock ?? systemClock;
    this.lastFlush = this.clock.now().getTime();
  }

  public async deliver(items: unknown[]): Promise<void> {
    const result = await landChangeBatch({
      records: items,
      table: this.options.table,
      writer: this.options.writer,
      errors: this.options.errors,
    });
    this.landed += result.landed;
    this.failed += result.failed;
    if (items.length > 0) this.buffered = true;
  }

  /**
   * Moves the lines of partitions that can never be written (the path itself is refused, e.g. ENAMETOOLONG) to the
   * error location, with the error code as the reason, so the pipe's checkpoint can move on; returns how many records
   * moved. Partitions failing for store-wide reasons (ENOSPC, EIO, …) stay buffered until the store recovers.
   * Called by the runner after bounded retries.
   *
   * @example
   * const moved = await target.divertUnwritable(); // then flush again
   */
  public async divertUnwritable(): Promise<number> {
    let moved = 0;
    for (const failed of this.options.writer.failedPartitions()) {
      if (!isUnwritablePath(failed.error)) continue;
      const taken = this.options.writer.take(failed.prefix);
      for (const line of taken?.lines ?? []) {
        const record = parse(line) as { eventId?: unknown };
        await this.options.errors.add({
          reason: `the lake could not write the record's partition: ${failureType(failed.error)}`,
          errorType: 'LakeWriteFailed',
          eventId: typeof record.eventId === 'string' ? record.eventId : undefined,
          record,
        });
        moved += 1;
      }
    }
    this.failed += moved;
    return moved;
  }

  public async flush(): Promise<void> {
    await this.options.writer.flush();
    await this.options.errors.flush();
    this.lastFlush = this.clock.now().getTime();
    this.buffered = false;
  }

  /**
   * Milliseconds until the buffer interval makes a flush due (0: due now), or `undefined` when nothing was delivered
   * since the last flush. A poll loop uses it to poll again exactly when delivered records are due, rather than at its
   * next regular tick (which can be up to one poll interval later).
   *
   * @example
   * const wait = target.flushDueInMs(); // e.g. 640 after a delivery 360 ms after the last flush, with flushSeconds 1
   */
  public flushDueInMs(): number | undefined {
    if (!this.buffered) return undefined;
    return Math.max(0, this.lastFlush + this.options.flushSeconds * 1000 - this.clock.now().getTime());
  }

  public shouldFlush(): boolean {
    // A failed write is retried at the next poll rather than after the buffer interval.
    if (this.options.writer.failedPartitions().length > 0) return true;
    return this.clock.now().getTime() - this.lastFlush >= this.options.flushSeconds * 1000;
  }
}

/**
 * When a pipe target's buffered records are due to be flushed: {@link ChangeLakeTarget.flushDueInMs} for targets that
 * buffer by time, `undefined` for others (nothing to wait for).
 *
 * @example
 * const wait = flushDueInMs(runner.pipe.target); // undefined, or ms until the next flush is due
 */
export function flushDueInMs(target: PipeTarget): number | undefined {
  return target instanceof ChangeLakeTarget ? target.flushDueInMs() : undefined;
}
