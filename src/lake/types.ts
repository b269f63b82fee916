import type { ObjectStore } from '../ports/object-store.js';
import type { Clock } from '../ports/clock.js';

/** Options of {@link PartitionedNdjsonWriter}. */
export interface PartitionedNdjsonWriterOptions {
  /** Where files go (a directory locally, S3 in AWS). */
  store: ObjectStore;
  /** Uncompressed bytes a partition buffers before it is written (Firehose SizeInMBs). */
  maxBytes: number;
  /** Partitions buffered at once; over this, the largest is written first. Default 500, as Firehose. */
  maxOpenPartitions?: number;
  /** Uncompressed bytes buffered across all partitions; over this, the largest is written. Default 256 MiB. */
  maxTotalBytes?: number;
  /** If set, every partition is flushed on this interval (Firehose IntervalInSeconds). `close()` stops it. */
  intervalMs?: number;
  /** zlib level, default 6. */
  compressionLevel?: number;
  /** Called when a timer-driven flush fails; otherwise the error is rethrown by the next call. */
  onFlushError?: (error: unknown) => void;
  /**
   * Names each file (the part after the prefix). Default {@link ndjsonFileName} of the first/last id and a hash of
   * every id (that hash is only computed for the default).
   * A caller whose input already has a stable name (an export file) can name by `sequence` instead: the writer
   * numbers the files of each prefix 0, 1, 2… in write order, which depends only on the lines added.
   */
  fileName?: (file: FileNameParts) => string;
}

/** What {@link PartitionedNdjsonWriterOptions.fileName} can name a file from. */
export interface FileNameParts {
  prefix: string;
  /** Files this writer already started under the same prefix. */
  sequence: number;
  firstId: string;
  lastId: string;
}

/** One file the writer put. */
export interface WrittenFile {
  key: string;
  records: number;
  /** Compressed size. */
  bytes: number;
  /** Uncompressed NDJSON size. */
  rawBytes: number;
  firstId: string;
  lastId: string;
}

/** A partition whose last write failed; its lines are buffered again. */
export interface FailedPartition {
  prefix: string;
  /** Lines buffered for it. */
  records: number;
  /** Why the last write failed (may quote the path: do not log its message). */
  error: unknown;
}

/** The buffered lines of one partition, as taken out of a writer. */
export interface BufferedPartition {
  prefix: string;
  lines: string[];
  /** The ids the lines were added with, in order (absent when the writer names files by sequence). */
  ids?: string[];
}

/** Running totals of a writer. */
export interface WriterStats {
  files: number;
  records: number;
  /** Compressed bytes written. */
  bytes: number;
  /** Uncompressed NDJSON bytes written. */
  rawBytes: number;
  /** Records buffered, not yet written. */
  bufferedRecords: number;
}

/** A record that could not be processed, as written to `_errors/<pipeline>/…`. */
export interface ErrorEntry {
  /** PHI-free reason. */
  reason: string;
  /** Stable machine-readable type, e.g. `InvalidAttributeValue`. */
  errorType: string;
  /** Stream event id, when known. */
  eventId?: string | undefined;
  /** Where the record came from, for file-based pipelines. */
  source?: { file?: string; line?: number } | undefined;
  /** The rejected record as received. May hold PHI: it goes to the error location, never to logs. */
  record: unknown;
}

/** Options of {@link ErrorSink}. */
export interface ErrorSinkOptions {
  store: ObjectStore;
  /** Pipeline name, the folder under `_errors/`. */
  pipeline: string;
  /** Dates the `year=/month=/day=` partition. Default the system clock. */
  clock?: Clock;
  /** Buffer size before writing, default 1 MiB. */
  maxBytes?: number;
}
