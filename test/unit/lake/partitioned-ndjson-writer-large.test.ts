import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PartitionedNdjsonWriter, gzipDeterministicSync, ndjsonFileName } from '../../../src/lake/index.js';
import { MemoryObjectStore } from './memory-store.js';

const A = 'changes/T/siteId=1/';
const B = 'changes/T/siteId=2/';
const C = 'changes/T/siteId=3/';

/** Lines of varied length and content (some non-ASCII), so chunk edges fall mid-line and compression has work. */
function line(i: number): string {
  return JSON.stringify({ i, text: `visit ${i} ü✓ `.repeat(1 + (i % 40)), n: (i * 7919) % 100003 });
}

/** What the writer wrote before it compressed large partitions ahead: one gzip of the joined lines, named by its ids. */
function expectedFile(prefix: string, entries: Array<{ line: string; id: string }>): [string, Buffer] {
  const hash = createHash('sha256');
  for (const { id } of entries) hash.update(id).update('\n');
  const name = ndjsonFileName(entries[0]!.id, entries.at(-1)!.id, hash.digest('hex'));
  return [prefix + name, gzipDeterministicSync(`${entries.map((entry) => entry.line).join('\n')}\n`)];
}

/** Splits what was added into files the way the writer's size rule does (maxBytes per file, no total cap hit). */
function expectedFiles(added: Array<{ prefix: string; line: string; id: string }>, maxBytes: number) {
  const open = new Map<string, { entries: Array<{ line: string; id: string }>; bytes: number }>();
  const files = new Map<string, Buffer>();
  const close = (prefix: string) => {
    const buffer = open.get(prefix);
    if (!buffer) return;
    const [key, body] = expectedFile(prefix, buffer.entries);
    files.set(key, body);
    open.delete(prefix);
  };
  for (const { prefix, line: text, id } of added) {
    const bytes = Buffer.byteLength(text) + 1;
    if ((open.get(prefix)?.bytes ?? 0) + bytes > maxBytes) close(prefix);
    const buffer = open.get(prefix) ?? { entries: [], bytes: 0 };
    buffer.entries.push({ line: text, id });
    buffer.bytes += bytes;
    open.set(prefix, buffer);
    if (buffer.bytes >= maxBytes) close(prefix);
  }
  for (const prefix of [...open.keys()]) close(prefix);
  return files;
}

describe('PartitionedNdjsonWriter with large partitions (compressed ahead of the write)', () => {
  it('writes the same bytes as one gzip of the joined lines', async () => {
    const store = new MemoryObjectStore();
    const maxBytes = 3 * 1024 * 1024;
    const writer = new PartitionedNdjsonWriter({ store, maxBytes });
    const added: Array<{ prefix: string; line: string; id: string }> = [];
    for (let i = 0; i < 40_000; i++) {
      const prefix = i % 5 === 4 ? C : i % 2 === 0 ? A : B;
      const entry = { prefix, line: line(i), id: String(100000 + i) };
      added.push(entry);
      await writer.add(entry.prefix, entry.line, entry.id);
    }
    await writer.flush();
    const expected = expectedFiles(added, maxBytes);
    expect(expected.size).toBeGreaterThan(5);
    expect([...store.objects.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [key, body] of expected) expect(Buffer.from(store.objects.get(key)!).equals(body), key).toBe(true);
    expect(writer.stats.records).toBe(40_000);
  });

  it('keeps the lines of a failed write of a compressed partition, retries them to the same bytes, and can take them', async () => {
    const store = new MemoryObjectStore();
    const writer = new PartitionedNdjsonWriter({ store, maxBytes: 64 * 1024 * 1024 });
    const entries = Array.from({ length: 6000 }, (_, i) => ({ line: line(i), id: String(500000 + i) }));
    for (const entry of entries.slice(0, 5000)) await writer.add(A, entry.line, entry.id);
    store.failNextPut = true;
    await expect(writer.flush()).rejects.toThrow('simulated put failure');
    expect(writer.failedPartitions()).toEqual([{ prefix: A, records: 5000, error: expect.any(Error) }]);
    for (const entry of entries.slice(5000)) await writer.add(A, entry.line, entry.id);
    const taken = writer.take(A);
    expect(taken?.lines).toEqual(entries.map((entry) => entry.line));
    expect(taken?.ids).toEqual(entries.map((entry) => entry.id));
    for (const entry of entries) await writer.add(A, entry.line, entry.id);
    store.failNextPut = true;
    await expect(writer.flush()).rejects.toThrow('simulated put failure');
    await writer.flush();
    const [key, body] = expectedFile(A, entries);
    expect([...store.objects.keys()]).toEqual([key]);
    expect(Buffer.from(store.objects.get(key)!).equals(body)).toBe(true);
  });
});

describe('PartitionedNdjsonWriter: a write failing while add waits for the compression queue', () => {
  it('rejects that add, not the process (no unhandled rejection), and keeps the failed lines', () => {
    // Its own process: Node's default ends it (exit 1) on an unhandled rejection, which the test runner would not.
    const script = fileURLToPath(new URL('./fixtures/write-fails-while-queue-drains.ts', import.meta.url));
    const child = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8' });
    expect(child.stderr).not.toMatch(/put failed/);
    expect(child.status).toBe(0);
    expect(child.stdout).toContain('add rejected: put failed for bad/');
    expect(child.stdout).toContain('failed partitions: bad/');
  });
});
