import type { TableConfig } from '../config/schema.js';
import type { ErrorSink } from '../lake/error-sink.js';
import { landChangeBatch } from '../lake/land-change-batch.js';
import type { PartitionedNdjsonWriter } from '../lake/partitioned-ndjson-writer.js';
import type { Clock } from '../ports/clock.js';
import { systemClock } from '../ports/clock.js';
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
 * and the rest of the batch goes on.
 *
 * @example
 * const target = new ChangeLakeTarget({ table, writer, errors, flushSeconds: 60 });
 * await target.deliver(records);
 * await target.flush();
 */
export class ChangeLakeTarget implements PipeTarget {
  private readonly clock: Clock;
  private lastFlush: number;
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
  }

  public async flush(): Promise<void> {
    await this.options.writer.flush();
    await this.options.errors.flush();
    this.lastFlush = this.clock.now().getTime();
  }

  public shouldFlush(): boolean {
    return this.clock.now().getTime() - this.lastFlush >= this.options.flushSeconds * 1000;
  }
}
