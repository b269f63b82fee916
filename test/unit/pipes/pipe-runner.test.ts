import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StreamRecord } from '../../../src/change-stream/types.js';
import { compileFilters } from '../../../src/event-pattern/compile-filters.js';
import { CheckpointStore } from '../../../src/pipes/checkpoint-store.js';
import { PipeBusyError } from '../../../src/pipes/errors.js';
import { PipeRunner, type PipeDefinition } from '../../../src/pipes/pipe-runner.js';
import type { PipeSource, PipeTarget } from '../../../src/pipes/types.js';
import { ListSource } from './fixtures.js';

const record = (n: number, eventName = 'INSERT'): StreamRecord => ({
  eventID: `e${n}`,
  eventName,
  dynamodb: { SequenceNumber: String(n).padStart(21, '0'), Keys: { id: { S: `k${n}` } } },
});

class MemoryTarget implements PipeTarget {
  public buffered: unknown[][] = [];
  /** Every batch as delivered. */
  public delivered: unknown[][] = [];
  public durable: unknown[] = [];
  public failFlush = false;
  public async deliver(items: unknown[]) {
    this.delivered.push(items);
    this.buffered.push(items);
  }
  public async flush() {
    if (this.failFlush) throw new Error('disk full');
    this.durable.push(...this.buffered.flat());
    this.buffered = [];
  }
}

describe('PipeRunner', () => {
  let dir: string;
  let checkpoints: CheckpointStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pipes-'));
    checkpoints = new CheckpointStore(join(dir, 'pipes.sqlite'));
  });
  afterEach(() => {
    checkpoints.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const pipe = (source: PipeSource, target: PipeTarget, extra: Partial<PipeDefinition> = {}): PipeDefinition => ({
    name: 'p',
    source,
    target,
    batchSize: 2,
    ...extra,
  });

  it('delivers in batches, filters, and commits after the flush', async () => {
    const source = new ListSource([record(1), record(2, 'REMOVE'), record(3), record(4), record(5)]);
    const target = new MemoryTarget();
    const runner = new PipeRunner(
      pipe(source, target, { filter: compileFilters([{ eventName: ['INSERT'] }]) }),
      checkpoints,
      { owner: 't' },
    );
    const stats = await runner.drain();
    expect(target.durable.map((r) => (r as StreamRecord).eventID)).toEqual(['e1', 'e3', 'e4', 'e5']);
    expect(stats).toMatchObject({ read: 5, filteredOut: 1, delivered: 4 });
    expect(checkpoints.reader('p').get('shard-1')).toBe(record(5).dynamodb!.SequenceNumber);

    // A second drain reads only what came after the checkpoint.
    source.records.push(record(6));
    await new PipeRunner(pipe(source, target), checkpoints, { owner: 't' }).drain();
    expect(target.durable.map((r) => (r as StreamRecord).eventID)).toEqual(['e1', 'e3', 'e4', 'e5', 'e6']);
  });

  it('does not commit when the flush fails, so the records are read again', async () => {
    const source = new ListSource([record(1), record(2)]);
    const target = new MemoryTarget();
    target.failFlush = true;
    await expect(
      new PipeRunner(pipe(source, target), checkpoints, { owner: 't', retryBackoffMs: 0 }).drain(),
    ).rejects.toThrow('disk full');
    expect(checkpoints.reader('p').get('shard-1')).toBeUndefined();
    target.failFlush = false;
    target.buffered = [];
    await new PipeRunner(pipe(source, target), checkpoints, { owner: 't' }).drain();
    expect(target.durable).toHaveLength(2);
  });

  it('after a failed flush, the same runner keeps its positions and commits them with the next flush', async () => {
    // Targets keep what a failed flush could not write (the lake writer re-buffers the lines of a failed write).
    const target = new MemoryTarget();
    const runner = new PipeRunner(pipe(new ListSource([record(1), record(2)]), target), checkpoints, {
      owner: 't',
      retryBackoffMs: 0,
    });
    target.failFlush = true;
    await expect(runner.drain()).rejects.toThrow('disk full');
    expect(checkpoints.reader('p').get('shard-1')).toBeUndefined();
    target.failFlush = false;
    await runner.drain(); // reads nothing new, flushes what is buffered
    expect(target.durable.map((r) => (r as StreamRecord).eventID)).toEqual(['e1', 'e2']);
    expect(target.delivered.flat()).toHaveLength(2);
    expect(checkpoints.reader('p').get('shard-1')).toBe(record(2).dynamodb!.SequenceNumber);
  });

  it('stops reading when its lease was taken over mid-drain, and commits nothing', async () => {
    const source = new ListSource([record(1), record(2), record(3), record(4)]);
    const target = Object.assign(new MemoryTarget(), {
      async deliver(this: MemoryTarget, items: unknown[]) {
        this.buffered.push(items);
        // The lease expired (as after a long stall) and another consumer took the pipe.
        checkpoints.tryLease('p', 'other', 60_000, Date.now() + 10 * 60_000);
      },
    });
    await expect(new PipeRunner(pipe(source, target), checkpoints, { owner: 't' }).drain()).rejects.toBeInstanceOf(
      PipeBusyError,
    );
    expect(target.buffered.flat()).toHaveLength(2); // the second batch was never read
    expect(checkpoints.reader('p').get('shard-1')).toBeUndefined();
  });

  it('drops a batch when the enrichment returns []', async () => {
    const target = new MemoryTarget();
    const enrichment = async (records: StreamRecord[]) =>
      records.some((r) => r.eventID === 'e1') ? [] : records.map((r) => ({ enriched: r.eventID }));
    const stats = await new PipeRunner(
      pipe(new ListSource([record(1), record(2), record(3)]), target, { enrichment }),
      checkpoints,
      { owner: 't' },
    ).drain();
    expect(target.durable).toEqual([{ enriched: 'e3' }]);
    expect(stats.delivered).toBe(1);
    expect(checkpoints.reader('p').get('shard-1')).toBe(record(3).dynamodb!.SequenceNumber);
  });

  it('poll delivers without committing until the target asks to flush', async () => {
    const target = Object.assign(new MemoryTarget(), {
      due: false,
      shouldFlush() {
        return this.due;
      },
    });
    const runner = new PipeRunner(pipe(new ListSource([record(1)]), target), checkpoints, { owner: 't' });
    await runner.poll();
    expect(target.durable).toHaveLength(0);
    expect(checkpoints.reader('p').get('shard-1')).toBeUndefined();
    // A second poll must not read the delivered-but-uncommitted record again.
    await runner.poll();
    expect(target.buffered.flat()).toHaveLength(1);
    target.due = true;
    await runner.poll();
    expect(target.durable).toHaveLength(1);
    expect(checkpoints.reader('p').get('shard-1')).toBe(record(1).dynamodb!.SequenceNumber);
  });

  it('keeps two consumers off one pipe with a lease', async () => {
    expect(checkpoints.tryLease('p', 'up', 60_000)).toBe(true);
    const runner = new PipeRunner(pipe(new ListSource([record(1)]), new MemoryTarget()), checkpoints, {
      owner: 'sync',
      leaseWaitMs: 300,
    });
    await expect(runner.drain()).rejects.toBeInstanceOf(PipeBusyError);
    // An expired lease can be taken over.
    expect(checkpoints.tryLease('p', 'sync', 60_000, Date.now() + 120_000)).toBe(true);
  });

  it('gathers filtered records into full batches, like Pipes', async () => {
    const target = new MemoryTarget();
    const source = new ListSource([record(1), record(2, 'REMOVE'), record(3), record(4), record(5)]);
    await new PipeRunner(pipe(source, target, { filter: compileFilters([{ eventName: ['INSERT'] }]) }), checkpoints, {
      owner: 't',
    }).drain();
    const ids = (batch: unknown[]) => batch.map((r) => (r as StreamRecord).eventID);
    expect(target.delivered.map(ids)).toEqual([
      ['e1', 'e3'],
      ['e4', 'e5'],
    ]);
  });

  it('waits up to the batching window for a partial batch when polling', async () => {
    const target = Object.assign(new MemoryTarget(), { shouldFlush: () => true });
    const source = new ListSource([record(1)]);
    const runner = new PipeRunner(pipe(source, target, { batchSize: 10, batchWindowSeconds: 0.3 }), checkpoints, {
      owner: 't',
    });
    await runner.poll();
    expect(target.durable).toHaveLength(0);
    // Not committed while gathered: a crash now re-reads record 1.
    expect(checkpoints.reader('p').get('shard-1')).toBeUndefined();
    source.records.push(record(2));
    await runner.poll();
    expect(target.durable).toHaveLength(0);
    await new Promise((resolve) => setTimeout(resolve, 350));
    await runner.poll();
    expect(target.durable.map((r) => (r as StreamRecord).eventID)).toEqual(['e1', 'e2']);
    expect(checkpoints.reader('p').get('shard-1')).toBe(record(2).dynamodb!.SequenceNumber);
  });
});
