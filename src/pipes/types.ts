import type { StreamRecord } from '../change-stream/types.js';
import type { ErrorEntry } from '../lake/types.js';

/** A batch read from a stream shard, with the position to checkpoint once it is durable. */
export interface SourceBatch {
  shardId: string;
  records: StreamRecord[];
  /** Sequence number of the last record read (filtered-out records included). */
  lastSequenceNumber: string;
  /** Stream time (epoch ms) of the last record read, when the stream gives one. */
  lastRecordTimeMs?: number;
  /**
   * Set (with no records) when the shard's position is behind the stream's trim horizon: records after it were trimmed
   * before the pipe read them. The shard is not read further until the gap is repaired.
   */
  gap?: StreamGap;
}

/** A shard whose committed position the stream has trimmed past. */
export interface StreamGap {
  shardId: string;
  /** The committed position (undefined: none). */
  position: string | undefined;
}

/** Where a pipe reads from: a DynamoDB stream, in AWS shape. */
export interface PipeSource {
  /** Name of the source, for logs (table name). */
  readonly name: string;
  /**
   * Reads records after the checkpoints, in order per shard, in batches of at most `batchSize`,
   * until the stream has no more records right now.
   */
  read(checkpoints: CheckpointReader, batchSize: number): AsyncIterable<SourceBatch>;
}

/** What a pipe's repair of one stream gap did (ids, times and counts only). */
export interface GapReport {
  shardId: string;
  /** The committed position the stream had trimmed past. */
  position: string | undefined;
  /** Stream time of the last record behind that position (ISO), when known. */
  checkpointTime?: string;
  /**
   * `incremental`: an INCREMENTAL export from the checkpoint time; `full`: a FULL snapshot (the window could not be
   * exported); `none`: reported only (a bus pipe: trimmed records cannot be landed), resumed at the trim horizon.
   */
  repair: 'incremental' | 'full' | 'none';
  /** The export that repaired it (absent for `none`). */
  exportId?: string;
  /** Change records landed. */
  records: number;
  /** Why a FULL snapshot was used instead of an INCREMENTAL export. */
  fallbackReason?: string;
}

/**
 * Snapshot and repair of a pipe's table through DynamoDB exports (see `TableBackfill`). Both commit the positions the
 * pipe resumes from. `renew` keeps the pipe's lease during long work and throws when another consumer took it.
 */
export interface PipeBackfill {
  /**
   * Before the pipe reads: finishes a snapshot or repair a crash interrupted, or takes the initial snapshot. Returns the
   * gaps of an interrupted repair it finished (to report like fresh ones).
   */
  prepare(renew: () => void): Promise<GapReport[] | void>;
  /** Reports and repairs shards found behind the stream's trim horizon; they resume at the trim horizon. */
  repair(gaps: StreamGap[], renew: () => void): Promise<GapReport[]>;
}

/** Who holds a pipe's consumer lease. */
export interface LeaseHolder {
  /** Owner string, `role:host:pid` (older state directories may hold `role:pid`). */
  owner: string;
  /** Epoch milliseconds when the lease runs out unless renewed. */
  until: number;
}

/** Reads a pipe's committed positions. */
export interface CheckpointReader {
  get(shardId: string): string | undefined;
}

/** An enrichment step: gets the array of records and returns an array; `[]` drops the batch. */
export type Enrichment = (records: StreamRecord[]) => Promise<unknown[]>;

/**
 * A pipe target. `deliver` may buffer; `flush` makes everything delivered durable.
 * Contract the runner relies on to retry without losing or doubling: `deliver` either takes the whole batch or throws
 * having kept none of it, and a failed `flush` keeps what it could not write for the next `flush`.
 */
export interface PipeTarget {
  deliver(items: unknown[]): Promise<void>;
  flush(): Promise<void>;
  /** True when buffered data should be flushed now (size or age reached). */
  shouldFlush?(): boolean;
  /**
   * Moves buffered records whose writes keep failing to the pipe's error location and returns how many moved; the
   * runner calls it when `flush` still fails after its retries, so one unwritable partition cannot hold the pipe.
   */
  divertUnwritable?(): Promise<number>;
}

/** A pipe's error location (`_errors/<pipe>/`), shared by its steps: the local stand-in for Pipes' dead-letter target. */
export interface PipeErrorLocation {
  /** Where the entries go, for log lines. */
  readonly location: string;
  /** Buffers one rejected record; never loses it (a failed write is retried by `flush`). */
  add(entry: ErrorEntry): Promise<unknown>;
  flush(): Promise<unknown>;
  /** Entries added so far by every step of the pipe, per errorType. */
  readonly addedByType: ReadonlyMap<string, number>;
}

/** Counters of one pipe, cumulative over its life. */
export interface PipeStats {
  read: number;
  filteredOut: number;
  delivered: number;
  batches: number;
  flushes: number;
  /** Records that failed delivery after retries and bisection and went to the pipe's error location. */
  rejected: number;
  /** Shards found behind the stream's trim horizon (each reported and repaired). */
  gaps?: number;
}
