import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StreamRecord } from '../../../src/change-stream/types.js';
import { ErrorSink } from '../../../src/lake/error-sink.js';
import { PartitionedNdjsonWriter } from '../../../src/lake/partitioned-ndjson-writer.js';
import { ChangeLakeTarget } from '../../../src/pipes/change-lake-target.js';
import { CheckpointStore } from '../../../src/pipes/checkpoint-store.js';
import { PipeBusyError } from '../../../src/pipes/errors.js';
import { PipeRunner, type PipeDefinition } from '../../../src/pipes/pipe-runner.js';
import type { PipeTarget } from '../../../src/pipes/types.js';
import { MemoryObjectStore } from '../lake/memory-store.js';
import { ListSource, record } from './fixtures.js';

/** A pid that surely ran on this host and is gone: a short child, spawned and reaped. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '0']);
  return child.pid;
}

const ids = (items: unknown[]) => items.map((item) => (item as StreamRecord).eventID);

/** A target that refuses (atomically: keeps nothing) any batch holding one of the `poison` event ids. */
class PickyTarget implements PipeTarget {
  public attempts: string[][] = [];
  public buffered: unknown[] = [];
  public durable: unknown[] = [];
  public constructor(private readonly poison: ReadonlySet<string>) {}
  public async deliver(items: unknown[]) {
    this.attempts.push(ids(items) as string[]);
    const bad = items.find((item) => this.poison.has((item as StreamRecord).eventID ?? ''));
    if (bad)
      throw Object.assign(new Error(`ENAMETOOLONG: name too long, open '/lake/${'x'.repeat(300)}'`), {
        code: 'ENAMETOOLONG',
      });
    this.buffered.push(...items);
  }
  public async flush() {
    this.durable.push(...this.buffered);
    this.buffered = [];
  }
}

describe('pipe failures', () => {
  let dir: string;
  let checkpoints: CheckpointStore;
  let store: MemoryObjectStore;
  let errors: ErrorSink;
  let lines: string[];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pipe-failures-'));
    checkpoints = new CheckpointStore(join(dir, 'pipes.sqlite'));
    store = new MemoryObjectStore();
    errors = new ErrorSink({ store, pipeline: 'p', clock: { now: () => new Date('2024-01-02') } });
    lines = [];
  });
  afterEach(() => {
    checkpoints.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const pipe = (records: StreamRecord[], target: PipeTarget, extra: Partial<PipeDefinition> = {}): PipeDefinition => ({
    name: 'p',
    source: new ListSource(records),
    target,
    batchSize: 8,
    errors,
    maximumRetryAttempts: 2,
    ...extra,
  });
  const options = (extra: Partial<ConstructorParameters<typeof PipeRunner>[2]> = {}) => ({
    owner: `sync:${hostname()}:${process.pid}`,
    retryBackoffMs: 0,
    log: (line: string) => lines.push(line),
    ...extra,
  });
  const errorEntries = () =>
    [...store.objects.keys()]
      .filter((key) => key.startsWith('_errors/p/'))
      .flatMap((key) => store.lines(key).map((line) => JSON.parse(line) as Record<string, unknown>));

  describe('leases', () => {
    it('takes over at once the lease of an owner on this host whose process is gone', async () => {
      const dead = `up:${hostname()}:${deadPid()}`;
      expect(checkpoints.tryLease('p', dead, 60_000)).toBe(true);
      expect(checkpoints.tryLease('p', `sync:${hostname()}:${process.pid}`, 60_000)).toBe(true);
      expect(checkpoints.leaseHolder('p')?.owner).toBe(`sync:${hostname()}:${process.pid}`);
      // A live holder, or one on another host (liveness unknown), keeps its lease until it runs out.
      expect(checkpoints.tryLease('p', `up:${hostname()}:${deadPid()}`, 60_000)).toBe(false);
      checkpoints.releaseLease('p', `sync:${hostname()}:${process.pid}`);
      expect(checkpoints.tryLease('p', 'up:elsewhere:1', 60_000)).toBe(true);
      expect(checkpoints.tryLease('p', `sync:${hostname()}:${process.pid}`, 60_000)).toBe(false);
    });

    it('a drain behind a dead owner starts at once instead of waiting for the lease to run out', async () => {
      checkpoints.tryLease('p', `up:${hostname()}:${deadPid()}`, 60_000);
      const target = new PickyTarget(new Set());
      const stats = await new PipeRunner(pipe([record(1)], target), checkpoints, options({ leaseWaitMs: 0 })).drain();
      expect(stats.delivered).toBe(1);
      expect(lines.filter((line) => line.includes('waiting'))).toEqual([]);
    });

    it('waiting on a live owner says who and for how long, and the busy error names it', async () => {
      const live = `up:${hostname()}:${process.pid}`;
      const until = Date.now() + 60_000;
      checkpoints.tryLease('p', live, 60_000, until - 60_000);
      const runner = new PipeRunner(pipe([record(1)], new PickyTarget(new Set())), checkpoints, {
        ...options({ leaseWaitMs: 300 }),
        owner: `sync:${hostname()}:${process.pid + 1}`,
      });
      const error = await runner.drain().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PipeBusyError);
      expect((error as Error).message).toContain(`being read by up (pid ${process.pid} on ${hostname()}), lease until`);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        new RegExp(`^pipe p: waiting for up \\(pid ${process.pid} on .+\\) \\(lease until \\S+Z, up to \\d+ s\\)$`),
      );
      // A poll in `up` says it once per holder, not once per poll.
      expect(await runner.poll()).toBe(false);
      expect(await runner.poll()).toBe(false);
      expect(lines.filter((line) => line.startsWith('pipe p: waiting for up'))).toHaveLength(2);
    });
  });

  describe('poison records', () => {
    it('retries, bisects, sends the one failing record to _errors/<pipe>/, delivers the rest once and moves on', async () => {
      const records = Array.from({ length: 8 }, (_, i) => record(i + 1));
      const target = new PickyTarget(new Set(['e6']));
      const runner = new PipeRunner(pipe(records, target), checkpoints, options());
      const stats = await runner.drain();

      expect(ids(target.durable)).toEqual(['e1', 'e2', 'e3', 'e4', 'e5', 'e7', 'e8']);
      expect(checkpoints.reader('p').get('shard-1')).toBe(record(8).dynamodb!.SequenceNumber);
      expect(stats).toMatchObject({ read: 8, delivered: 7, rejected: 1 });
      // 3 attempts of the batch, then halves: [1-4] ok, [5-8] fails once, [5,6] fails once, [5] ok, [6] 3 times, then [7,8].
      expect(target.attempts.filter((batch) => batch.length === 8)).toHaveLength(3);
      expect(target.attempts.filter((batch) => batch.join() === 'e6')).toHaveLength(3);
      const [entry, ...more] = errorEntries();
      expect(more).toEqual([]);
      expect(entry).toMatchObject({
        errorType: 'DeliveryFailed',
        eventId: 'e6',
        reason: 'delivery failed 3 times, after retries and bisection: ENAMETOOLONG',
        record: { eventID: 'e6', dynamodb: { SequenceNumber: record(6).dynamodb!.SequenceNumber } },
      });
      expect(lines).toEqual([
        'pipe p: record e6 (shard shard-1, seq 000000000000000000006) rejected after 3 attempts: ENAMETOOLONG; see _errors/p/',
        'pipe p: 1 record rejected (DeliveryFailed), see _errors/p/',
      ]);
      // No values and no long lines in the log.
      expect(lines.every((line) => line.length < 200 && !line.includes('xxx'))).toBe(true);

      // A later drain does not deliver anything again.
      await runner.drain();
      expect(target.durable).toHaveLength(7);
      await runner.close(); // shutdown does not end with the poison's error
    });

    it('a record that fails only transiently is retried and delivered, not rejected', async () => {
      let failures = 2;
      const target = new PickyTarget(new Set());
      const flaky: PipeTarget = {
        deliver: async (items) => {
          if (failures-- > 0) throw new Error('ECONNRESET');
          await target.deliver(items);
        },
        flush: () => target.flush(),
      };
      const stats = await new PipeRunner(pipe([record(1), record(2)], flaky), checkpoints, options()).drain();
      expect(ids(target.durable)).toEqual(['e1', 'e2']);
      expect(stats.rejected).toBe(0);
      expect(errorEntries()).toEqual([]);
    });

    it('counts and reports records the target itself sends to the error location', async () => {
      const lake = new ChangeLakeTarget({
        table: { name: 'Visits', partitionKey: 'id', pipe: { partitionBy: ['siteId'] } } as never,
        writer: new PartitionedNdjsonWriter({ store, maxBytes: 1 << 20 }),
        errors,
        flushSeconds: 60,
      });
      const records = [record(1, { siteId: { S: '2' } }), record(2, { siteId: { S: 'z'.repeat(2048) } })];
      const stats = await new PipeRunner(pipe(records, lake), checkpoints, options()).drain();
      expect(stats.rejected).toBe(1);
      expect(lines).toEqual(['pipe p: 1 record rejected (InvalidPartitionAttribute), see _errors/p/']);
      expect(errorEntries()).toEqual([
        expect.objectContaining({ eventId: 'e2', errorType: 'InvalidPartitionAttribute' }),
      ]);
      expect(checkpoints.reader('p').get('shard-1')).toBe(record(2).dynamodb!.SequenceNumber);
    });
  });

  describe('lake writes', () => {
    const lakeTarget = (maxBytes = 1 << 20) =>
      new ChangeLakeTarget({
        table: { name: 'Visits', partitionKey: 'id', pipe: { partitionBy: ['siteId'] } } as never,
        writer: new PartitionedNdjsonWriter({ store, maxBytes }),
        errors,
        flushSeconds: 60,
      });
    const landed = () =>
      [...store.objects.keys()]
        .filter((key) => key.startsWith('changes/'))
        .flatMap((key) => store.lines(key).map((line) => (JSON.parse(line) as { eventId: string }).eventId))
        .sort();

    it('a write that fails once and then succeeds loses nothing and doubles nothing', async () => {
      const records = Array.from({ length: 6 }, (_, i) => record(i + 1, { siteId: { S: 'a' } }));
      // Small files: writes happen while delivering, and the first one fails.
      const target = lakeTarget(400);
      store.failNextPut = true;
      const stats = await new PipeRunner(pipe(records, target, { batchSize: 2 }), checkpoints, options()).drain();
      expect(landed()).toEqual(['e1', 'e2', 'e3', 'e4', 'e5', 'e6']);
      expect(stats.rejected).toBe(0);
      expect(checkpoints.reader('p').get('shard-1')).toBe(record(6).dynamodb!.SequenceNumber);
    });

    it('a partition that can never be written goes to _errors/<pipe>/ with the errno code; the rest lands', async () => {
      const put = store.put.bind(store);
      store.put = async (key, body) => {
        if (key.includes('siteId=bad/'))
          throw Object.assign(new Error(`ENAMETOOLONG: open '${key}'`), { code: 'ENAMETOOLONG' });
        return put(key, body);
      };
      const records = [record(1, { siteId: { S: 'ok' } }), record(2, { siteId: { S: 'bad' } })];
      const stats = await new PipeRunner(pipe(records, lakeTarget()), checkpoints, options()).drain();
      expect(landed()).toEqual(['e1']);
      expect(errorEntries()).toEqual([
        expect.objectContaining({
          eventId: 'e2',
          errorType: 'LakeWriteFailed',
          reason: "the lake could not write the record's partition: ENAMETOOLONG",
        }),
      ]);
      expect(stats.rejected).toBe(1);
      expect(checkpoints.reader('p').get('shard-1')).toBe(record(2).dynamodb!.SequenceNumber);
      expect(lines[0]).toBe(
        'pipe p: 1 buffered record could not be written after 3 attempts (ENAMETOOLONG); moved to _errors/p/',
      );
    });

    it('when even the error location cannot be written, nothing is committed or lost, and it recovers', async () => {
      const put = store.put.bind(store);
      let diskFull = true;
      store.put = async (key, body) => {
        if (diskFull) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
        return put(key, body);
      };
      const records = [record(1, { siteId: { S: 'a' } }), record(2, { siteId: { S: 'b' } })];
      const runner = new PipeRunner(pipe(records, lakeTarget()), checkpoints, options());
      await expect(runner.drain()).rejects.toThrow('ENOSPC');
      expect(checkpoints.reader('p').get('shard-1')).toBeUndefined();
      // While the flush fails, polls read nothing more.
      (runner.pipe.source as ListSource).records.push(record(3, { siteId: { S: 'a' } }));
      await expect(runner.poll()).rejects.toThrow('ENOSPC');
      expect(runner.stats.read).toBe(2);
      diskFull = false;
      await runner.drain();
      // A full disk is not the records' fault: they all land in the lake, each once, none in _errors.
      expect(landed()).toEqual(['e1', 'e2', 'e3']);
      expect(errorEntries()).toEqual([]);
      expect(runner.stats.rejected).toBe(0);
      expect(checkpoints.reader('p').get('shard-1')).toBe(record(3).dynamodb!.SequenceNumber);
    });
  });
});
