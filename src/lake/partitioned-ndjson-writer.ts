import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createGzip, gunzipSync, type Gzip } from 'node:zlib';
import { GZIP_OS_BYTE, GZIP_OS_UNKNOWN, gzipDeterministic } from './deterministic-gzip.js';
import { ndjsonFileName } from './file-name.js';
import type {
  BufferedPartition,
  FailedPartition,
  FileNameParts,
  PartitionedNdjsonWriterOptions,
  WriterStats,
  WrittenFile,
} from './types.js';

/** Lines buffered for one partition prefix, as UTF-8 bytes (newline-terminated) rather than strings. */
interface PartitionBuffer {
  readonly prefix: string;
  /** Filled chunks, in order. */
  chunks: Buffer[];
  /** The chunk being filled (its first `used` bytes hold lines), if any. */
  current: Buffer | undefined;
  used: number;
  /** Lines buffered. */
  records: number;
  bytes: number;
  readonly firstId: string;
  lastId: string;
  /**
   * Every id, for the default file name (a hash of them all); kept as a list rather than a running hash so that the
   * lines of a failed write can be put back and named again.
   */
  ids: IdList | undefined;
  /** Number of this file among the files of its prefix (see `fileName`). */
  sequence: number;
  /** Compresses the partition's filled chunks as they fill, once it is large (see {@link COMPRESS_AFTER_BYTES}). */
  compressor: Compressor | undefined;
}

/**
 * A partition's ids as UTF-8 bytes, one per line (`id\n…`): the bytes the name's hash reads, without a string per id
 * on the heap.
 */
interface IdList {
  chunks: Buffer[];
  current: Buffer;
  used: number;
}

/** A gzip stream fed a partition's bytes ahead of its write; zlib's streaming output equals its one-shot output. */
interface Compressor {
  readonly stream: Gzip;
  readonly out: Buffer[];
}

/** Smallest and largest chunk a partition's bytes are kept in: small partitions stay small, big ones few. */
const MIN_CHUNK_BYTES = 16 * 1024;
const MAX_CHUNK_BYTES = 256 * 1024;
const NEWLINE = 0x0a;
/** Chunk sizes of a partition's id list (ids are short: a 5 MiB partition of change records has ~250 KiB of ids). */
const MIN_ID_CHUNK_BYTES = 512;
const MAX_ID_CHUNK_BYTES = 64 * 1024;
/**
 * A partition holding this many bytes starts compressing in the background (on libuv's pool, so on another core): what
 * it holds is then mostly gzip (about a fifth of the size) and its write only has the tail left to compress. Smaller
 * partitions are compressed at their write, in one go.
 */
const COMPRESS_AFTER_BYTES = 256 * 1024;
/** Most partitions compressing at once (each gzip stream holds about 300 KiB of zlib state). */
const MAX_COMPRESSORS = 48;
/** Bytes handed to compressors and not yet compressed; past this `add` waits, so memory stays bounded. */
const MAX_QUEUED_BYTES = 4 * 1024 * 1024;

const NEWLINE_BYTES = 1;

/**
 * Buffers NDJSON lines per partition prefix and writes each partition as one gzip NDJSON object,
 * like Firehose with dynamic partitioning. A partition is written when adding a line would take it
 * over `maxBytes`, when too many partitions are open or too many bytes are buffered in total (the
 * largest goes first), on `flush()`, and
 * optionally on a timer. File names derive from the record ids, and gzip output is byte-stable, so
 * re-running a batch overwrites the same keys. Lines are held as UTF-8 bytes; a partition past 256 KiB is compressed
 * as it fills (on libuv's pool, beside the caller's work), so memory holds mostly gzip and the write only finishes the
 * stream. The limits above still count uncompressed bytes, so which lines share a file does not change.
 *
 * A failed write rejects the call that caused it, but loses nothing (unless zlib itself fails, e.g. out of memory, on
 * a partition compressed ahead): its lines go back into the buffer of their partition (ahead of lines added since) and the next write or flush retries them, so a caller may retry without
 * replaying (and without doubling) what it added. `add` buffers its line even when the write it triggers fails.
 * {@link PartitionedNdjsonWriter.failedPartitions} lists partitions whose last write failed; a caller that gives up on
 * one can {@link PartitionedNdjsonWriter.take} its lines (e.g. to an error location).
 *
 * @example
 * const writer = new PartitionedNdjsonWriter({ store, maxBytes: 5 * 1024 * 1024 });
 * await writer.add(lakeLayout.changes('Visits') + hivePath(partitions), line, record.seq);
 * await writer.flush();
 */
export class PartitionedNdjsonWriter {
  readonly #options: Required<Omit<PartitionedNdjsonWriterOptions, 'intervalMs' | 'onFlushError' | 'fileName'>> &
    Pick<PartitionedNdjsonWriterOptions, 'onFlushError' | 'fileName'>;
  /** Files started per prefix; kept only when `fileName` may number by sequence. */
  readonly #sequences = new Map<string, number>();
  readonly #buffers = new Map<string, PartitionBuffer>();
  readonly #inFlight = new Set<Promise<WrittenFile>>();
  /** Partitions whose last write failed (their lines are buffered again), with the error. */
  readonly #failures = new Map<string, unknown>();
  readonly #stats: WriterStats = { files: 0, records: 0, bytes: 0, rawBytes: 0, bufferedRecords: 0 };
  #timer: NodeJS.Timeout | undefined;
  #pendingError: unknown;
  #closed = false;
  #timedFlushRunning = false;
  /** Uncompressed bytes held across all buffers. */
  #bufferedBytes = 0;
  /** Writes under way per prefix: a prefix being written does not compress ahead (see `#reattach`). */
  readonly #writing = new Map<string, number>();
  #compressors = 0;
  /** Bytes written to compressors and not yet consumed by them. */
  #queuedBytes = 0;
  #drainWaiters: Array<() => void> = [];

  public constructor(options: PartitionedNdjsonWriterOptions) {
    if (!(options.maxBytes > 0)) throw new RangeError('maxBytes must be positive');
    const maxOpenPartitions = options.maxOpenPartitions ?? 500;
    if (options.maxTotalBytes !== undefined && !(options.maxTotalBytes > 0))
      throw new RangeError('maxTotalBytes must be positive');
    if (!Number.isInteger(maxOpenPartitions) || maxOpenPartitions < 1)
      throw new RangeError('maxOpenPartitions must be a positive integer');
    this.#options = {
      store: options.store,
      maxBytes: options.maxBytes,
      maxOpenPartitions,
      maxTotalBytes: options.maxTotalBytes ?? 256 * 1024 * 1024,
      compressionLevel: options.compressionLevel ?? 6,
      onFlushError: options.onFlushError,
      fileName: options.fileName,
    };
    if (options.intervalMs !== undefined) {
      if (!(options.intervalMs > 0)) throw new RangeError('intervalMs must be positive');
      this.#timer = setInterval(() => {
        // Skip a tick while the previous timed flush is still writing, so one failure is reported once.
        if (this.#timedFlushRunning) return;
        this.#timedFlushRunning = true;
        this.#flushAll()
          .catch((error: unknown) => {
            if (this.#options.onFlushError) this.#options.onFlushError(error);
            else this.#pendingError ??= error;
          })
          .finally(() => {
            this.#timedFlushRunning = false;
          });
      }, options.intervalMs);
      this.#timer.unref();
    }
  }

  /** Totals so far. */
  public get stats(): Readonly<WriterStats> {
    return { ...this.#stats };
  }

  /** Number of partitions currently buffering. */
  public get openPartitions(): number {
    return this.#buffers.size;
  }

  /**
   * Buffers one line (no trailing newline) under a partition prefix ending in `/`. `id` is the
   * record's sort key (e.g. its stream sequence number); ids name the file. Resolves with the files
   * this call caused to be written (usually none).
   *
   * @example
   * await writer.add('changes/Visits/year=2024/month=03/day=01/', line, '4000000000000000001');
   */
  public async add(prefix: string, line: string, id: string): Promise<WrittenFile[]> {
    this.#throwPending();
    if (this.#closed) throw new Error('writer is closed');
    const lineBytes = Buffer.byteLength(line, 'utf8') + NEWLINE_BYTES;
    const written: Array<Promise<WrittenFile>> = [];
    let buffer = this.#buffers.get(prefix);
    if (buffer !== undefined && buffer.bytes + lineBytes > this.#options.maxBytes) {
      written.push(this.#write(buffer));
      buffer = undefined;
    }
    if (buffer === undefined) {
      if (this.#buffers.size >= this.#options.maxOpenPartitions) written.push(this.#write(this.#largest()));
      buffer = {
        prefix,
        chunks: [],
        current: undefined,
        used: 0,
        records: 0,
        bytes: 0,
        firstId: id,
        lastId: id,
        ids: this.#options.fileName
          ? undefined
          : { chunks: [], current: Buffer.allocUnsafe(MIN_ID_CHUNK_BYTES), used: 0 },
        sequence: 0,
        compressor: undefined,
      };
      this.#buffers.set(prefix, buffer);
    }
    append(buffer, line, lineBytes, this.#options.maxBytes);
    buffer.bytes += lineBytes;
    buffer.lastId = id;
    if (buffer.ids !== undefined) appendId(buffer.ids, id);
    this.#stats.bufferedRecords++;
    this.#bufferedBytes += lineBytes;
    // A single line at or over the limit is written on its own rather than held.
    if (buffer.bytes >= this.#options.maxBytes) written.push(this.#write(buffer));
    else if (buffer.chunks.length > 0) this.#compressAhead(buffer);
    while (this.#bufferedBytes > this.#options.maxTotalBytes && this.#buffers.size > 0)
      written.push(this.#write(this.#largest()));
    if (written.length === 0) {
      if (this.#queuedBytes > MAX_QUEUED_BYTES) await this.#drained();
      return [];
    }
    const all = Promise.all(written);
    if (this.#queuedBytes > MAX_QUEUED_BYTES) {
      // A write may fail while this waits: handled here, so it rejects this call instead of the process.
      all.catch(() => undefined);
      await this.#drained();
    }
    return all;
  }

  /**
   * Writes every buffered partition and waits for writes already under way.
   *
   * @example
   * const files = await writer.flush(); // call at each checkpoint
   */
  public async flush(): Promise<WrittenFile[]> {
    this.#throwPending();
    return this.#flushAll();
  }

  /**
   * Stops the timer and flushes what is left.
   *
   * @example
   * await writer.close();
   */
  public async close(): Promise<WrittenFile[]> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    const files = await this.flush();
    this.#closed = true;
    return files;
  }

  /**
   * Partitions whose last write failed and whose lines are buffered again, with the error (oldest first).
   *
   * @example
   * for (const failed of writer.failedPartitions()) console.log(failed.prefix, failed.records);
   */
  public failedPartitions(): FailedPartition[] {
    return [...this.#failures].flatMap(([prefix, error]) => {
      const buffer = this.#buffers.get(prefix);
      return buffer ? [{ prefix, records: buffer.records, error }] : [];
    });
  }

  /**
   * Removes a partition's buffered lines without writing them and returns them, e.g. to move the lines of a partition
   * that cannot be written to an error location.
   *
   * @example
   * const taken = writer.take(failed.prefix); // taken.lines, taken.ids
   */
  public take(prefix: string): BufferedPartition | undefined {
    const buffer = this.#buffers.get(prefix);
    this.#failures.delete(prefix);
    if (buffer === undefined) return undefined;
    this.#buffers.delete(prefix);
    this.#stats.bufferedRecords -= buffer.records;
    this.#bufferedBytes -= buffer.bytes;
    return { prefix, lines: linesOf(buffer), ...(buffer.ids ? { ids: idsOf(buffer.ids) } : {}) };
  }

  async #flushAll(): Promise<WrittenFile[]> {
    const pending = [...this.#inFlight];
    const fresh = [...this.#buffers.values()].map((buffer) => this.#write(buffer));
    const results = await Promise.allSettled([...pending, ...fresh]);
    const failure = results.find((result) => result.status === 'rejected');
    if (failure !== undefined) throw failure.reason;
    return results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  }

  #largest(): PartitionBuffer {
    let largest: PartitionBuffer | undefined;
    for (const buffer of this.#buffers.values())
      if (largest === undefined || buffer.bytes > largest.bytes) largest = buffer;
    return largest as PartitionBuffer;
  }

  /** Detaches the buffer at once (so new lines start a fresh one) and writes it. */
  #write(buffer: PartitionBuffer): Promise<WrittenFile> {
    this.#buffers.delete(buffer.prefix);
    if (this.#options.fileName !== undefined) {
      // Numbered here, synchronously, so the order of writes (not of their completion) decides the names.
      buffer.sequence = this.#sequences.get(buffer.prefix) ?? 0;
      this.#sequences.set(buffer.prefix, buffer.sequence + 1);
    }
    this.#stats.bufferedRecords -= buffer.records;
    this.#bufferedBytes -= buffer.bytes;
    const prefix = buffer.prefix;
    this.#writing.set(prefix, (this.#writing.get(prefix) ?? 0) + 1);
    const promise = this.#put(buffer)
      .then(
        (file) => {
          this.#failures.delete(buffer.prefix);
          return file;
        },
        (error: unknown) => {
          this.#reattach(buffer, error);
          throw error;
        },
      )
      .finally(() => {
        this.#inFlight.delete(promise);
        const writing = (this.#writing.get(prefix) ?? 1) - 1;
        if (writing === 0) this.#writing.delete(prefix);
        else this.#writing.set(prefix, writing);
      });
    this.#inFlight.add(promise);
    return promise;
  }

  /**
   * Hands a large partition's filled chunks to its gzip stream (started here if needed). Not while the prefix has a
   * write under way or failed: a failed write's lines are merged with the newer ones as plain bytes, and `take` must
   * return them synchronously.
   */
  #compressAhead(buffer: PartitionBuffer): void {
    if (buffer.compressor === undefined) {
      if (
        buffer.bytes < COMPRESS_AFTER_BYTES ||
        // Stored blocks (level 0) follow the input's chunking, so streaming would not give one-shot gzip's bytes.
        this.#options.compressionLevel === 0 ||
        this.#compressors >= MAX_COMPRESSORS ||
        this.#writing.has(buffer.prefix) ||
        this.#failures.has(buffer.prefix)
      )
        return;
      const stream = createGzip({ level: this.#options.compressionLevel });
      const out: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => out.push(chunk));
      // Errors surface at the write (`once(stream, 'end')` rejects); this keeps one from being unhandled before then.
      stream.on('error', () => undefined);
      buffer.compressor = { stream, out };
      this.#compressors += 1;
    }
    this.#feed(buffer.compressor, buffer.chunks);
    buffer.chunks = [];
  }

  #feed(compressor: Compressor, chunks: readonly Buffer[]): void {
    for (const chunk of chunks) {
      this.#queuedBytes += chunk.length;
      compressor.stream.write(chunk, () => {
        this.#queuedBytes -= chunk.length;
        if (this.#queuedBytes <= MAX_QUEUED_BYTES / 2 && this.#drainWaiters.length > 0) {
          const waiters = this.#drainWaiters;
          this.#drainWaiters = [];
          for (const wake of waiters) wake();
        }
      });
    }
  }

  #drained(): Promise<void> {
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /** The gzip file of a buffer: the rest of its bytes through its compressor, or all of them in one go. */
  async #gzip(buffer: PartitionBuffer): Promise<Buffer> {
    const compressor = buffer.compressor;
    if (compressor === undefined) {
      // One contiguous body (kept as the buffer's only chunk, so a failed write can put it back without copying).
      return gzipDeterministic(bodyOf(buffer), this.#options.compressionLevel);
    }
    buffer.compressor = undefined;
    this.#compressors -= 1;
    this.#feed(compressor, bodyChunks(buffer));
    buffer.chunks = [];
    const ended = once(compressor.stream, 'end');
    compressor.stream.end();
    try {
      await ended;
    } catch (error) {
      // zlib failed (out of memory): the bytes it was given cannot be recovered, so they are not put back.
      buffer.records = 0;
      buffer.bytes = 0;
      if (buffer.ids !== undefined) buffer.ids = { chunks: [], current: buffer.ids.current, used: 0 };
      throw error;
    }
    const gz = Buffer.concat(compressor.out);
    gz[GZIP_OS_BYTE] = GZIP_OS_UNKNOWN;
    // Should the put fail, the lines go back into the buffer as plain bytes.
    buffer.chunks = [];
    return gz;
  }

  /** Puts the lines of a failed write back, ahead of any lines of the same partition added since. */
  #reattach(failed: PartitionBuffer, error: unknown): void {
    if (failed.records === 0) return; // nothing left to put back (see `#gzip`)
    const newer = this.#buffers.get(failed.prefix);
    const merged: PartitionBuffer = newer
      ? {
          prefix: failed.prefix,
          chunks: [...bodyChunks(failed), ...bodyChunks(newer)],
          current: undefined,
          used: 0,
          records: failed.records + newer.records,
          bytes: failed.bytes + newer.bytes,
          firstId: failed.firstId,
          lastId: newer.lastId,
          ids:
            failed.ids && newer.ids
              ? {
                  chunks: [...idChunks(failed.ids), ...idChunks(newer.ids)],
                  current: Buffer.allocUnsafe(MIN_ID_CHUNK_BYTES),
                  used: 0,
                }
              : undefined,
          sequence: 0,
          compressor: undefined,
        }
      : failed;
    this.#buffers.set(failed.prefix, merged);
    this.#stats.bufferedRecords += failed.records;
    this.#bufferedBytes += failed.bytes;
    this.#failures.set(failed.prefix, error);
  }

  async #put(buffer: PartitionBuffer): Promise<WrittenFile> {
    const compressedAhead = buffer.compressor !== undefined;
    const gz = await this.#gzip(buffer);
    const parts: FileNameParts = {
      prefix: buffer.prefix,
      sequence: buffer.sequence,
      firstId: buffer.firstId,
      lastId: buffer.lastId,
    };
    const name = buffer.ids
      ? ndjsonFileName(buffer.firstId, buffer.lastId, idsHash(buffer.ids))
      : this.#options.fileName!(parts);
    const key = buffer.prefix + name;
    try {
      await this.#options.store.put(key, gz, { contentType: 'application/gzip' });
    } catch (error) {
      // Compressed ahead, the plain bytes are gone: get them back from the file, for the retry or for `take`.
      if (compressedAhead) buffer.chunks = [gunzipSync(gz)];
      throw error;
    }
    this.#stats.files++;
    this.#stats.records += buffer.records;
    this.#stats.bytes += gz.byteLength;
    this.#stats.rawBytes += buffer.bytes;
    return {
      key,
      records: buffer.records,
      bytes: gz.byteLength,
      rawBytes: buffer.bytes,
      firstId: buffer.firstId,
      lastId: buffer.lastId,
    };
  }

  #throwPending(): void {
    if (this.#pendingError !== undefined) {
      const error = this.#pendingError;
      this.#pendingError = undefined;
      throw error;
    }
  }
}

/** Hash of every id of a file, one per line, so the default name covers the whole content. */
function idsHash(ids: IdList): string {
  const hash = createHash('sha256');
  for (const chunk of idChunks(ids)) hash.update(chunk);
  return hash.digest('hex');
}

/** Appends one line and its newline to a partition's bytes; `lineBytes` counts both. */
function append(buffer: PartitionBuffer, line: string, lineBytes: number, maxBytes: number): void {
  let current = buffer.current;
  if (current === undefined || current.length - buffer.used < lineBytes) {
    if (current !== undefined) buffer.chunks.push(current.subarray(0, buffer.used));
    // Chunks grow with the partition (so a small one holds little), never past what the partition may still take.
    const size = Math.max(
      lineBytes,
      Math.min(MAX_CHUNK_BYTES, Math.max(MIN_CHUNK_BYTES, buffer.bytes), maxBytes - buffer.bytes),
    );
    current = Buffer.allocUnsafe(size);
    buffer.current = current;
    buffer.used = 0;
  }
  const written = current.write(line, buffer.used, 'utf8');
  current[buffer.used + written] = NEWLINE;
  buffer.used += written + 1;
  buffer.records += 1;
}

/** The buffer's bytes as chunks, the chunk being filled closed off. */
function bodyChunks(buffer: PartitionBuffer): Buffer[] {
  if (buffer.current !== undefined) {
    buffer.chunks.push(buffer.current.subarray(0, buffer.used));
    buffer.current = undefined;
    buffer.used = 0;
  }
  return buffer.chunks;
}

/** The buffer's bytes in one piece, which also becomes its only chunk. */
function bodyOf(buffer: PartitionBuffer): Buffer {
  const chunks = bodyChunks(buffer);
  if (chunks.length === 1) return chunks[0]!;
  const body = Buffer.concat(chunks, buffer.bytes);
  buffer.chunks = [body];
  return body;
}

/** The buffered lines as strings (lines hold no newline: they are NDJSON lines). */
function linesOf(buffer: PartitionBuffer): string[] {
  const text = bodyOf(buffer).toString('utf8');
  return text === '' ? [] : text.slice(0, -1).split('\n');
}

/** Appends one id and a newline to an id list. */
function appendId(ids: IdList, id: string): void {
  const bytes = Buffer.byteLength(id, 'utf8') + 1;
  if (ids.current.length - ids.used < bytes) {
    if (ids.used > 0) ids.chunks.push(ids.current.subarray(0, ids.used));
    ids.current = Buffer.allocUnsafe(
      Math.max(bytes, MIN_ID_CHUNK_BYTES, Math.min(MAX_ID_CHUNK_BYTES, ids.current.length * 2)),
    );
    ids.used = 0;
  }
  const written = ids.current.write(id, ids.used, 'utf8');
  ids.current[ids.used + written] = NEWLINE;
  ids.used += written + 1;
}

/** The id list's bytes as chunks, the chunk being filled included (and closed off). */
function idChunks(ids: IdList): Buffer[] {
  if (ids.used > 0) {
    ids.chunks.push(ids.current.subarray(0, ids.used));
    ids.current = ids.current.subarray(ids.used);
    ids.used = 0;
  }
  return ids.chunks;
}

/** The ids as strings. */
function idsOf(ids: IdList): string[] {
  const text = Buffer.concat(idChunks(ids)).toString('utf8');
  return text === '' ? [] : text.slice(0, -1).split('\n');
}
