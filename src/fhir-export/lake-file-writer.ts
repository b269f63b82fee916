import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { ObjectStore } from '../ports/object-store.js';

const gzipAsync = promisify(gzip);
/** Offset of the OS byte in a gzip header, and the value `gzipDeterministic` writes there (RFC 1952 "unknown"). */
const OS_BYTE = 9;
const OS_UNKNOWN = 255;
/**
 * zlib's output chunk for `length` bytes of NDJSON: an eighth of the input (FHIR NDJSON compresses far better), so
 * one chunk usually holds the whole compressed file and a file costs one round trip between the main thread and the
 * libuv pool instead of one per 16 KiB of output. The output bytes do not depend on it.
 */
const gzipChunk = (length: number) => Math.min(1024 * 1024, Math.max(16 * 1024, Math.ceil(length / 8 / 1024) * 1024));

/** Lines of one partition prefix, as bytes: full blocks, then the block being filled. */
interface PartitionBytes {
  readonly prefix: string;
  readonly blocks: Buffer[];
  current: Buffer;
  /** Bytes used in `current`. */
  used: number;
  /** Bytes of the lines, newlines included. */
  bytes: number;
}

/** Size of the blocks lines are copied into (after a partition's first, smaller ones); they are reused. */
const BLOCK = 64 * 1024;
/** First block of a partition: small, so that many small partitions stay small. */
const FIRST_BLOCK = 2048;
/** Puts under way at most (each holds only its compressed file). */
const MAX_PUTS = 16;
/** Spare blocks kept for reuse. */
const MAX_SPARE_BLOCKS = 64;
const NEWLINE = 0x0a;
const copyBytes = Buffer.prototype.copy;

/** Tuning of a {@link LakeFileWriter}; every field has a default. */
export interface LakeFileWriterOptions {
  /** Bytes of lines waiting or being compressed before `add` asks the caller to drain (default a quarter of the budget, at least 1 MiB). */
  maxInFlightBytes?: number;
  /** Files compressed at once on the libuv pool (default 2). */
  concurrency?: number;
  /** gzip level (default 6, the lake's: another level writes other bytes for the same lines). */
  compressionLevel?: number;
}

/**
 * The lake writer of one exported file: gzip NDJSON per partition prefix, named `<stem>-<seq>.ndjson.gz`, with at most
 * `budget` bytes of lines buffered. Which lines go to which file is decided exactly as
 * {@link import('../lake/partitioned-ndjson-writer.js').PartitionedNdjsonWriter} decides it with
 * `maxBytes = maxTotalBytes = budget` and no limit on open partitions (a partition is written when a line would take
 * it over the budget or when it reaches it; while the total is over the budget the largest partition is written, the
 * first opened among equals), so the files are the same. What differs is how:
 * - lines are bytes copied from the input into reused blocks (no strings, no per-line objects); the unused tail of a
 *   partition is under one block, so memory follows the budget, whatever the number of partitions;
 * - files are written in the background (gzip on the libuv pool, then `put`), at most `concurrency` at a time (the
 *   pool's other threads stay free for reading the input), while lines keep coming; the caller awaits {@link LakeFileWriter.drain} when
 *   {@link LakeFileWriter.add} says more than `maxInFlightBytes` of lines are waiting or being written.
 *
 * A failed write fails the file: the error is thrown by the next `drain` or by `close` (a retry of the file rewrites
 * the same keys).
 *
 * @example
 * const writer = new LakeFileWriter(lake, 'stem', 16 * 1024 * 1024);
 * if (writer.add('fhir/Patient/year=2024/month=03/day=05/', line, 0, line.length)) await writer.drain();
 * await writer.close();
 */
export class LakeFileWriter {
  readonly #partitions = new Map<string, PartitionBytes>();
  readonly #sequences = new Map<string, number>();
  /** Files waiting for a compression slot. */
  readonly #queue: Array<{ key: string; body: ArrayBuffer; length: number }> = [];
  /** Files being compressed and put. */
  readonly #inFlight = new Set<Promise<void>>();
  #running = 0;
  /** Files compressed or being compressed whose `put` has not finished. */
  #puts = 0;
  readonly #spareBlocks: Buffer[] = [];
  /** Bodies of written files, reused for the next ones. */
  readonly #spareBodies: ArrayBuffer[] = [];
  #spareBodyBytes = 0;
  #inFlightBytes = 0;
  #bufferedBytes = 0;
  #failed = false;
  #error: unknown;
  /** Files written so far. */
  public files = 0;

  private readonly maxInFlightBytes: number;
  private readonly concurrency: number;
  private readonly compressionLevel: number;

  public constructor(
    private readonly store: ObjectStore,
    private readonly stem: string,
    private readonly budget: number,
    options: LakeFileWriterOptions = {},
  ) {
    this.maxInFlightBytes = options.maxInFlightBytes ?? Math.max(budget / 4, 1024 * 1024);
    this.concurrency = options.concurrency ?? 2;
    this.compressionLevel = options.compressionLevel ?? 6;
  }

  /**
   * Buffers `source[start, end)` (one line, without its newline) under `prefix`. True when the caller should await
   * {@link LakeFileWriter.drain} before adding more (writes under way are over their limit, or one failed).
   *
   * @example
   * if (writer.add(prefix, chunk, lineStart, lineEnd)) await writer.drain();
   */
  public add(prefix: string, source: Uint8Array, start: number, end: number): boolean {
    const lineBytes = end - start + 1;
    let partition = this.#partitions.get(prefix);
    if (partition !== undefined && partition.bytes + lineBytes > this.budget) {
      this.#write(partition);
      partition = undefined;
    }
    if (partition === undefined) {
      partition = { prefix, blocks: [], current: Buffer.allocUnsafe(FIRST_BLOCK), used: 0, bytes: 0 };
      this.#partitions.set(prefix, partition);
    }
    this.#copy(partition, source, start, end);
    if (partition.used === partition.current.length) this.#nextBlock(partition);
    partition.current[partition.used++] = NEWLINE;
    partition.bytes += lineBytes;
    this.#bufferedBytes += lineBytes;
    if (partition.bytes >= this.budget) this.#write(partition);
    while (this.#bufferedBytes > this.budget && this.#partitions.size > 0) this.#write(this.#largest());
    return this.#failed || this.#busy();
  }

  /**
   * {@link LakeFileWriter.add} of a line given as text.
   *
   * @example
   * if (writer.addText(prefix, JSON.stringify(record))) await writer.drain();
   */
  public addText(prefix: string, line: string): boolean {
    const bytes = Buffer.from(line, 'utf8');
    return this.add(prefix, bytes, 0, bytes.length);
  }

  /**
   * Waits until the writes under way are within their limit; throws the error of a failed write.
   *
   * @example
   * await writer.drain();
   */
  public async drain(): Promise<void> {
    while (!this.#failed && this.#busy() && this.#inFlight.size > 0) await Promise.race(this.#inFlight);
    if (this.#failed) throw this.#error;
  }

  /**
   * Writes every buffered partition (in the order they were opened) and waits for all writes.
   *
   * @example
   * await writer.close();
   */
  public async close(): Promise<void> {
    for (const partition of [...this.#partitions.values()]) this.#write(partition);
    while (this.#inFlight.size > 0) await Promise.race(this.#inFlight);
    if (this.#failed) throw this.#error;
  }

  /** Appends bytes to a partition's blocks, starting new blocks as they fill. */
  #copy(partition: PartitionBytes, source: Uint8Array, start: number, end: number): void {
    while (start < end) {
      if (partition.used === partition.current.length) this.#nextBlock(partition);
      const n = Math.min(partition.current.length - partition.used, end - start);
      copyBytes.call(source, partition.current, partition.used, start, start + n);
      partition.used += n;
      start += n;
    }
  }

  /** Starts a partition's next block: doubling up to {@link BLOCK}, then blocks of that size (reused). */
  #nextBlock(partition: PartitionBytes): void {
    partition.blocks.push(partition.current);
    partition.current =
      partition.current.length < BLOCK / 2
        ? Buffer.allocUnsafe(partition.current.length * 2)
        : (this.#spareBlocks.pop() ?? Buffer.allocUnsafeSlow(BLOCK));
    partition.used = 0;
  }

  #largest(): PartitionBytes {
    let largest: PartitionBytes | undefined;
    for (const partition of this.#partitions.values())
      if (largest === undefined || partition.bytes > largest.bytes) largest = partition;
    return largest!;
  }

  /** Detaches a partition (its next line opens a new one), joins its blocks into one body and queues its file. */
  #write(partition: PartitionBytes): void {
    this.#partitions.delete(partition.prefix);
    const sequence = this.#sequences.get(partition.prefix) ?? 0;
    this.#sequences.set(partition.prefix, sequence + 1);
    this.#bufferedBytes -= partition.bytes;
    const body = this.#body(partition.bytes);
    const view = new Uint8Array(body, 0, partition.bytes);
    let at = 0;
    for (const block of partition.blocks) {
      view.set(block, at);
      at += block.length;
      this.#spare(block);
    }
    view.set(partition.current.subarray(0, partition.used), at);
    this.#spare(partition.current);
    const key = `${partition.prefix}${this.stem}-${String(sequence).padStart(4, '0')}.ndjson.gz`;
    this.#inFlightBytes += partition.bytes;
    this.#queue.push({ key, body, length: partition.bytes });
    this.#pump();
  }

  #spare(block: Buffer): void {
    if (block.length === BLOCK && this.#spareBlocks.length < MAX_SPARE_BLOCKS) this.#spareBlocks.push(block);
  }

  /** An `ArrayBuffer` of at least `size` bytes: a spare one if one fits (bodies are reused, not left to the GC). */
  #body(size: number): ArrayBuffer {
    let best = -1;
    for (let k = 0; k < this.#spareBodies.length; k += 1) {
      const capacity = this.#spareBodies[k]!.byteLength;
      if (capacity >= size && (best < 0 || capacity < this.#spareBodies[best]!.byteLength)) best = k;
    }
    // Sizes rounded up to whole blocks, so that the bodies of later files fit in the spare ones.
    if (best < 0) return Buffer.allocUnsafeSlow(Math.ceil(size / BLOCK) * BLOCK).buffer as ArrayBuffer;
    const [found] = this.#spareBodies.splice(best, 1);
    this.#spareBodyBytes -= found!.byteLength;
    return found!;
  }

  /**
   * Starts queued files while fewer than `concurrency` are being compressed. A file's compression slot is freed as soon
   * as it is compressed; its `put` goes on beside the next compressions (at most {@link MAX_PUTS} at a time).
   */
  #pump(): void {
    while (this.#running < this.concurrency && this.#queue.length > 0) {
      const { key, body, length } = this.#queue.shift()!;
      this.#running += 1;
      this.#puts += 1;
      const compressed = this.#gzip(body, length).finally(() => {
        this.#running -= 1;
        this.#inFlightBytes -= length;
        this.#pump();
      });
      const done = compressed
        .then((gz) => this.store.put(key, gz, { contentType: 'application/gzip' }))
        .then(
          () => {
            this.files += 1;
          },
          (error: unknown) => {
            if (!this.#failed) this.#error = error;
            this.#failed = true;
          },
        )
        .finally(() => {
          this.#puts -= 1;
          this.#inFlight.delete(done);
        });
      this.#inFlight.add(done);
    }
  }

  /** Writes under way are over their limits: lines waiting or being compressed, or puts. */
  #busy(): boolean {
    return this.#inFlightBytes > this.maxInFlightBytes || this.#puts > MAX_PUTS;
  }

  /** Gzips like `gzipDeterministic` (same zlib, level and OS byte: the same bytes), then keeps the body for reuse. */
  async #gzip(body: ArrayBuffer, length: number): Promise<Buffer> {
    const gz = await gzipAsync(new Uint8Array(body, 0, length), {
      level: this.compressionLevel,
      chunkSize: gzipChunk(length),
    });
    gz[OS_BYTE] = OS_UNKNOWN;
    // Kept for the next files, up to what may be in flight.
    if (this.#spareBodyBytes + body.byteLength <= this.maxInFlightBytes + BLOCK * 16) {
      this.#spareBodies.push(body);
      this.#spareBodyBytes += body.byteLength;
    }
    return gz;
  }
}
