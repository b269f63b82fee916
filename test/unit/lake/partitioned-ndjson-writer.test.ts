import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PartitionedNdjsonWriter, gzipDeterministicSync, ndjsonFileName } from '../../../src/lake/index.js';
import { DirectoryObjectStore } from '../../../src/local/object-store/directory-object-store.js';
import { MemoryObjectStore } from './memory-store.js';

const A = 'changes/T/year=2024/month=01/day=01/';
const B = 'changes/T/year=2024/month=01/day=02/';

describe('PartitionedNdjsonWriter', () => {
  afterEach(() => vi.useRealTimers());

  it('buffers per partition and writes one gzip NDJSON file per partition on flush', async () => {
    const store = new MemoryObjectStore();
    const writer = new PartitionedNdjsonWriter({ store, maxBytes: 1024 });
    await writer.add(A, '{"n":1}', '1');
    await writer.add(B, '{"n":2}', '2');
    await writer.add(A, '{"n":3}', '3');
    expect(store.puts).toEqual([]);
    expect(writer.stats.bufferedRecords).toBe(3);
    const files = await writer.flush();
    expect(files).toHaveLength(2);
    const keyA = files.find((file) => file.key.startsWith(A))?.key ?? '';
    expect(keyA).toMatch(/^changes\/T\/year=2024\/month=01\/day=01\/1-3-[0-9a-f]{12}\.ndjson\.gz$/);
    expect(store.lines(keyA)).toEqual(['{"n":1}', '{"n":3}']);
    // the file ends with a newline (true NDJSON)
    expect(gunzipSync(store.objects.get(keyA) ?? new Uint8Array()).toString()).toBe('{"n":1}\n{"n":3}\n');
    expect(writer.stats).toMatchObject({ files: 2, records: 3, bufferedRecords: 0, rawBytes: 24 });
    expect(writer.stats.bytes).toBe([...store.objects.values()].reduce((sum, body) => sum + body.byteLength, 0));
  });

  it('names files deterministically, so a retried batch overwrites instead of duplicating', async () => {
    const root = await mkdtemp(join(tmpdir(), 'tributary-writer-'));
    try {
      const store = new DirectoryObjectStore(root);
      const run = async () => {
        const writer = new PartitionedNdjsonWriter({ store, maxBytes: 1024 });
        for (let seq = 100; seq < 105; seq++) await writer.add(A, `{"seq":${seq}}`, String(seq));
        return writer.close();
      };
      const [first] = await run();
      const bytes = await store.get(first?.key ?? '');
      const [second] = await run();
      expect(second?.key).toBe(first?.key);
      expect(await store.get(second?.key ?? '')).toEqual(bytes);
      const keys: string[] = [];
      for await (const info of store.list('changes/')) keys.push(info.key);
      expect(keys).toEqual([first?.key]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('different record sets with the same first and last ids get different names', () => {
    expect(ndjsonFileName('1', '3', 'aaaaaaaaaaaaaaaa')).not.toBe(ndjsonFileName('1', '3', 'bbbbbbbbbbbbbbbb'));
  });

  it('gzip output is deterministic: no mtime, fixed OS byte', () => {
    const a = gzipDeterministicSync('{"x":1}\n');
    expect(a.readUInt32LE(4)).toBe(0); // MTIME
    expect(a[9]).toBe(255); // OS unknown
    expect(gzipDeterministicSync('{"x":1}\n')).toEqual(a);
  });

  it('flushes a partition before it would exceed maxBytes, never holding more', async () => {
    const store = new MemoryObjectStore();
    const writer = new PartitionedNdjsonWriter({ store, maxBytes: 20 });
    const line = '{"n":"12345"}'; // 13 bytes + newline = 14
    const first = await writer.add(A, line, '1');
    expect(first).toEqual([]);
    const second = await writer.add(A, line, '2'); // 28 > 20: the first line is written, the second starts a new buffer
    expect(second).toHaveLength(1);
    expect(second[0]).toMatchObject({ records: 1, rawBytes: 14, firstId: '1', lastId: '1' });
    expect(writer.stats.bufferedRecords).toBe(1);
    await writer.flush();
    expect(store.puts).toHaveLength(2);
  });

  it('writes an oversized single line on its own at once', async () => {
    const store = new MemoryObjectStore();
    const writer = new PartitionedNdjsonWriter({ store, maxBytes: 10 });
    const written = await writer.add(A, '{"big":"xxxxxxxxxxxxxxxx"}', '1');
    expect(written).toHaveLength(1);
    expect(writer.openPartitions).toBe(0);
  });

  it('caps open partitions, writing the largest first', async () => {
    const store = new MemoryObjectStore();
    const writer = new PartitionedNdjsonWriter({ store, maxBytes: 1024, maxOpenPartitions: 2 });
    await writer.add('p=a/', '{"a":1}', '1');
    await writer.add('p=b/', '{"b":1}', '2');
    await writer.add('p=b/', '{"b":2}', '3');
    const written = await writer.add('p=c/', '{"c":1}', '4');
    expect(written.map((file) => file.key.split('/')[0])).toEqual(['p=b']);
    expect(writer.openPartitions).toBe(2);
  });

  it('caps bytes buffered across partitions, writing the largest first', async () => {
    const store = new MemoryObjectStore();
    const writer = new PartitionedNdjsonWriter({ store, maxBytes: 1024, maxTotalBytes: 30 });
    await writer.add('p=a/', '{"a":1}', '1'); // 8 bytes
    await writer.add('p=b/', '{"b":1}', '2');
    await writer.add('p=b/', '{"b":2}', '3'); // 24 in total
    const written = await writer.add('p=c/', '{"c":1}', '4'); // 32 > 30
    expect(written.map((file) => file.key.split('/')[0])).toEqual(['p=b']);
    expect(writer.stats.bufferedRecords).toBe(2);
  });

  it('timer mode flushes on the interval and close() stops it', async () => {
    vi.useFakeTimers();
    const store = new MemoryObjectStore();
    const writer = new PartitionedNdjsonWriter({ store, maxBytes: 1024, intervalMs: 1000 });
    await writer.add(A, '{"n":1}', '1');
    await vi.advanceTimersByTimeAsync(1000);
    await vi.waitFor(() => expect(store.puts).toHaveLength(1));
    await writer.add(A, '{"n":2}', '2');
    await writer.close();
    expect(store.puts).toHaveLength(2);
    expect(vi.getTimerCount()).toBe(0);
    await expect(writer.add(A, '{"n":3}', '3')).rejects.toThrow('writer is closed');
  });

  it('a failed put rejects the flush but keeps the lines: the next flush writes them once, under the same key', async () => {
    const store = new MemoryObjectStore();
    const writer = new PartitionedNdjsonWriter({ store, maxBytes: 1024 });
    await writer.add(A, '{"n":1}', '1');
    await writer.add(A, '{"n":2}', '2');
    store.failNextPut = true;
    await expect(writer.flush()).rejects.toThrow('simulated put failure');
    expect(writer.stats).toMatchObject({ files: 0, bufferedRecords: 2 });
    expect(writer.failedPartitions()).toEqual([{ prefix: A, records: 2, error: expect.any(Error) }]);
    const [file] = await writer.flush();
    expect(store.lines(file?.key ?? '')).toEqual(['{"n":1}', '{"n":2}']);
    expect(writer.failedPartitions()).toEqual([]);
    // The same key a writer that never failed would have used.
    const clean = new PartitionedNdjsonWriter({ store: new MemoryObjectStore(), maxBytes: 1024 });
    await clean.add(A, '{"n":1}', '1');
    await clean.add(A, '{"n":2}', '2');
    expect((await clean.flush())[0]?.key).toBe(file?.key);
    expect(store.puts).toEqual([file?.key]);
  });

  it('a size-triggered write that fails keeps its lines ahead of newer ones: nothing lost, nothing doubled', async () => {
    const store = new MemoryObjectStore();
    const writer = new PartitionedNdjsonWriter({ store, maxBytes: 20 }); // each second line starts a new file
    const line = (n: number) => `{"n":"${String(n).padStart(5, '0')}"}`; // 14 bytes with its newline
    await writer.add(A, line(1), '1');
    store.failNextPut = true;
    // Writing the first buffer fails; the line this call adds is buffered all the same.
    await expect(writer.add(A, line(2), '2')).rejects.toThrow('simulated put failure');
    expect(writer.stats.bufferedRecords).toBe(2);
    await writer.add(A, line(3), '3');
    await writer.flush();
    const written = store.puts.flatMap((key) => store.lines(key));
    expect(written.sort()).toEqual([line(1), line(2), line(3)]);
    expect(writer.stats).toMatchObject({ records: 3, bufferedRecords: 0 });
  });

  it('take removes a partition that cannot be written, with its lines and ids', async () => {
    const store = new MemoryObjectStore();
    const writer = new PartitionedNdjsonWriter({ store, maxBytes: 1024 });
    await writer.add(A, '{"n":1}', '1');
    await writer.add(B, '{"n":2}', '2');
    store.put = async (key) => {
      if (key.startsWith(A)) throw Object.assign(new Error(`ENAMETOOLONG: ${key}`), { code: 'ENAMETOOLONG' });
      store.puts.push(key);
    };
    await expect(writer.flush()).rejects.toThrow('ENAMETOOLONG');
    expect(writer.failedPartitions().map((failed) => failed.prefix)).toEqual([A]);
    expect(writer.take(A)).toEqual({ prefix: A, lines: ['{"n":1}'], ids: ['1'] });
    expect(writer.stats.bufferedRecords).toBe(0);
    await writer.flush();
    expect(writer.failedPartitions()).toEqual([]);
  });

  it('a failed timer flush is reported to onFlushError', async () => {
    vi.useFakeTimers();
    const store = new MemoryObjectStore();
    const errors: unknown[] = [];
    const writer = new PartitionedNdjsonWriter({
      store,
      maxBytes: 1024,
      intervalMs: 10,
      onFlushError: (error) => errors.push(error),
    });
    await writer.add(A, '{"n":1}', '1');
    store.failNextPut = true;
    await vi.advanceTimersByTimeAsync(10);
    await vi.waitFor(() => expect(errors).toHaveLength(1));
    await writer.close();
  });

  it('sanitises and bounds ids in file names', () => {
    expect(ndjsonFileName('a/b', 'c', '0123456789abcdef')).toBe('a%2Fb-c-0123456789ab.ndjson.gz');
    expect(ndjsonFileName('x'.repeat(100), 'y', '0123456789abcdef')).toMatch(
      /^[0-9a-f]{16}-y-0123456789ab\.ndjson\.gz$/,
    );
  });

  it('rejects nonsense options', () => {
    const store = new MemoryObjectStore();
    expect(() => new PartitionedNdjsonWriter({ store, maxBytes: 0 })).toThrow(RangeError);
    expect(() => new PartitionedNdjsonWriter({ store, maxBytes: 1, maxOpenPartitions: 0 })).toThrow(RangeError);
    expect(() => new PartitionedNdjsonWriter({ store, maxBytes: 1, maxTotalBytes: -1 })).toThrow(RangeError);
  });

  it('fileName can number files per prefix by write order (stable names from the caller, not from the ids)', async () => {
    const store = new MemoryObjectStore();
    const writer = new PartitionedNdjsonWriter({
      store,
      maxBytes: 20,
      fileName: ({ sequence }) => `job1_file-${sequence}.ndjson.gz`,
    });
    const line = '{"n":"12345"}'; // 14 bytes with its newline: each second line starts a new file
    for (const id of ['x', 'y', 'z']) await writer.add(A, line, id);
    await writer.add(B, line, 'w');
    await writer.close();
    expect([...store.puts].sort()).toEqual([
      `${A}job1_file-0.ndjson.gz`,
      `${A}job1_file-1.ndjson.gz`,
      `${A}job1_file-2.ndjson.gz`,
      `${B}job1_file-0.ndjson.gz`,
    ]);
    expect(store.lines(`${A}job1_file-2.ndjson.gz`)).toEqual([line]);
  });
});
