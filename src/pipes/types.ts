import type { StreamRecord } from '../change-stream/types.js';

/** A batch read from a stream shard, with the position to checkpoint once it is durable. */
export interface SourceBatch {
  shardId: string;
  records: StreamRecord[];
  /** Sequence number of the last record read (filtered-out records included). */
  lastSequenceNumber: string;
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

/** Reads a pipe's committed positions. */
export interface CheckpointReader {
  get(shardId: string): string | undefined;
}

/** An enrichment step: gets the array of records and returns an array; `[]` drops the batch. */
export type Enrichment = (records: StreamRecord[]) => Promise<unknown[]>;

/** A pipe target. `deliver` may buffer; `flush` makes everything delivered durable. */
export interface PipeTarget {
  deliver(items: unknown[]): Promise<void>;
  flush(): Promise<void>;
  /** True when buffered data should be flushed now (size or age reached). */
  shouldFlush?(): boolean;
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
}
