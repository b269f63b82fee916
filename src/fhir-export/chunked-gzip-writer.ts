import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { ObjectStore } from '../ports/object-store.js';

const gzipAsync = promisify(gzip);

/** Options of {@link ChunkedGzipWriter}. */
export interface ChunkedGzipWriterOptions {
  store: ObjectStore;
  /** File name stem, deterministic from the input (job + file): a retry writes the same names. */
  stem: string;
  /** Lines held in memory across all prefixes before the largest buffer is written out. Default 16 MiB. */
  maxBufferedBytes?: number;
}

interface Buffered {
  lines: string[];
  bytes: number;
  next: number;
}

/**
 * Buffers NDJSON lines per key prefix (a lake partition) and writes them as gzip objects named
 * `<prefix><stem>-<seq>.ndjson.gz`. Memory stays under `maxBufferedBytes` whatever the input size: when
 * the budget is exceeded the largest buffer is written as the next numbered part. Splitting depends only on
 * the input, so processing the same file again writes the same objects (a retry overwrites, never doubles).
 *
 * @example
 * const writer = new ChunkedGzipWriter({ store: lake, stem: 'job1_Patient-1_ab12cd34' });
 * await writer.add('fhir/Patient/year=2024/month=01/day=02/', line);
 * const keys = await writer.close();
 */
export class ChunkedGzipWriter {
  private readonly buffers = new Map<string, Buffered>();
  private readonly written: string[] = [];
  private buffered = 0;
  private readonly maxBufferedBytes: number;

  public constructor(private readonly options: ChunkedGzipWriterOptions) {
    this.maxBufferedBytes = options.maxBufferedBytes ?? 16 * 1024 * 1024;
  }

  /**
   * Adds one line (without its newline) under a prefix ending in `/`. Returns a promise only when the memory budget
   * forced a write (await it); otherwise `undefined`, so the per-line path stays synchronous.
   */
  public add(prefix: string, line: string): Promise<void> | undefined {
    let buffer = this.buffers.get(prefix);
    if (!buffer) {
      buffer = { lines: [], bytes: 0, next: 0 };
      this.buffers.set(prefix, buffer);
    }
    buffer.lines.push(line);
    const size = line.length + 1;
    buffer.bytes += size;
    this.buffered += size;
    return this.buffered > this.maxBufferedBytes ? this.drain() : undefined;
  }

  private async drain(): Promise<void> {
    while (this.buffered > this.maxBufferedBytes) await this.flushLargest();
  }

  /** Writes every remaining buffer; returns all keys written, in write order. */
  public async close(): Promise<string[]> {
    const prefixes = [...this.buffers.keys()].sort();
    for (const prefix of prefixes) await this.flush(prefix);
    return [...this.written];
  }

  /** Keys written so far. */
  public get keys(): readonly string[] {
    return this.written;
  }

  private async flushLargest(): Promise<void> {
    let largest: string | undefined;
    let bytes = -1;
    for (const [prefix, buffer] of this.buffers) {
      if (buffer.bytes > bytes || (buffer.bytes === bytes && largest !== undefined && prefix < largest)) {
        largest = prefix;
        bytes = buffer.bytes;
      }
    }
    if (largest === undefined || bytes <= 0) return;
    await this.flush(largest);
  }

  private async flush(prefix: string): Promise<void> {
    const buffer = this.buffers.get(prefix);
    if (!buffer || buffer.lines.length === 0) return;
    const key = `${prefix}${this.options.stem}-${String(buffer.next).padStart(4, '0')}.ndjson.gz`;
    const body = await gzipAsync(Buffer.from(`${buffer.lines.join('\n')}\n`, 'utf8'));
    this.buffered -= buffer.bytes;
    buffer.lines = [];
    buffer.bytes = 0;
    buffer.next += 1;
    await this.options.store.put(key, body, { contentType: 'application/x-ndjson' });
    this.written.push(key);
  }
}
