import type { StreamStore } from './stream-store.js';
import type { StreamInfo } from './types.js';

/** DynamoDB Streams keeps records 24 hours. */
export const DEFAULT_STREAM_RETENTION_SECONDS = 86_400;

/** Environment variable that sets the stream retention (seconds) when the start options do not. */
export const STREAM_RETENTION_ENV = 'TRIBUTARY_STREAM_RETENTION_SECONDS';

const DAY_MS = 86_400_000;
const MIN_INTERVAL_MS = 200;
const MAX_INTERVAL_MS = 60_000;

/**
 * The stream retention in seconds: the option if given, else `TRIBUTARY_STREAM_RETENTION_SECONDS`,
 * else 86,400 (24 hours, as in AWS). Throws on a value that is not a positive number.
 *
 * @example
 * resolveStreamRetentionSeconds(undefined, { TRIBUTARY_STREAM_RETENTION_SECONDS: '2' }) // 2
 * resolveStreamRetentionSeconds(60, {}) // 60
 */
export function resolveStreamRetentionSeconds(
  option: number | undefined,
  env: Record<string, string | undefined> = process.env,
): number {
  if (option !== undefined) {
    if (!Number.isFinite(option) || option <= 0) {
      throw new Error(`streamRetentionSeconds must be a positive number of seconds, got ${String(option)}`);
    }
    return option;
  }
  const raw = env[STREAM_RETENTION_ENV];
  if (raw === undefined || raw.trim() === '') return DEFAULT_STREAM_RETENTION_SECONDS;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new Error(`${STREAM_RETENTION_ENV} must be a positive number of seconds, got '${raw}'`);
  }
  return seconds;
}

/** Options of {@link StreamPurger}. */
export interface StreamPurgerOptions {
  retentionMs: number;
  /** Time between purge passes; by default half the retention, between 200 ms and 60 s. */
  intervalMs?: number;
  /** Records deleted per statement (the event loop yields between statements). Default 1000. */
  batchSize?: number;
  /** The clock, epoch milliseconds (`Date.now` by default). */
  now?: () => number;
}

/**
 * Deletes stream records no one can read any more, on a timer: records past the stream retention
 * (trimmed from the Streams API) and, for a table with point-in-time recovery, also older than its
 * recovery window (INCREMENTAL exports are built from them). Each batch is one short statement and
 * the event loop yields between batches, so writes wait for one batch at most.
 *
 * @example
 * const purger = new StreamPurger(store, { retentionMs: 86_400_000 });
 * purger.start();
 * await purger.stop();
 */
export class StreamPurger {
  private readonly retentionMs: number;
  private readonly intervalMs: number;
  private readonly batchSize: number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private stopped = false;

  public constructor(
    private readonly store: StreamStore,
    options: StreamPurgerOptions,
  ) {
    this.retentionMs = options.retentionMs;
    this.intervalMs =
      options.intervalMs ?? Math.min(MAX_INTERVAL_MS, Math.max(MIN_INTERVAL_MS, Math.floor(options.retentionMs / 2)));
    this.batchSize = options.batchSize ?? 1000;
    this.now = options.now ?? Date.now;
  }

  /** Starts purging every `intervalMs` (the timer does not keep the process alive). */
  public start(): void {
    if (this.stopped || this.timer) return;
    this.timer = setInterval(() => {
      void this.runOnce().catch(() => {
        // A failed pass (e.g. the database busy) is retried on the next tick; the records stay.
      });
    }, this.intervalMs);
    this.timer.unref();
  }

  /** Runs one purge pass (unless one is running: then waits for it) and returns how many records it deleted. */
  public runOnce(): Promise<number> {
    this.running ??= this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Stops the timer and waits for a running pass to finish. */
  public async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  private async pass(): Promise<number> {
    let deleted = 0;
    for (;;) {
      const nowMs = this.now();
      const result = this.store.purge({
        trimCutoffMs: nowMs - this.retentionMs,
        keepAfterMs: (stream) => this.pitrWindowStart(stream, nowMs),
        batchSize: this.batchSize,
      });
      deleted += result.deleted;
      if (!result.more || this.stopped) return deleted;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** The oldest time an INCREMENTAL export of the stream's table can start at; `Infinity` without PITR. */
  private pitrWindowStart(stream: StreamInfo, nowMs: number): number {
    const pitr = this.store.pitr(stream.tableName, stream.tableId);
    return pitr ? Math.max(pitr.enabledMs, nowMs - pitr.recoveryDays * DAY_MS) : Number.POSITIVE_INFINITY;
  }
}
