import { describe, expect, it } from 'vitest';
import { ErrorSink } from '../../../src/lake/error-sink.js';
import { PartitionedNdjsonWriter } from '../../../src/lake/partitioned-ndjson-writer.js';
import { ChangeLakeTarget, flushDueInMs } from '../../../src/pipes/change-lake-target.js';
import type { PipeTarget } from '../../../src/pipes/types.js';
import { MemoryObjectStore } from '../lake/memory-store.js';
import { record } from './fixtures.js';

/** A target on a memory store with a clock the test moves by hand. */
function target(flushSeconds: number) {
  let now = Date.parse('2026-01-01T00:00:00.000Z');
  const clock = { now: () => new Date(now) };
  const store = new MemoryObjectStore();
  const lake = new ChangeLakeTarget({
    table: { name: 'visits', partitionKey: 'id', pipe: { partitionBy: ['year'] } } as never,
    writer: new PartitionedNdjsonWriter({ store, maxBytes: 1 << 20 }),
    errors: new ErrorSink({ store, pipeline: 'visits-pipe' }),
    flushSeconds,
    clock,
  });
  return { lake, store, advance: (ms: number) => (now += ms) };
}

describe('ChangeLakeTarget: when buffered records are due', () => {
  it('nothing is due before anything is delivered, nor after a flush', async () => {
    const { lake, advance } = target(1);
    expect(lake.flushDueInMs()).toBeUndefined();
    advance(5000);
    expect(lake.flushDueInMs()).toBeUndefined();
    await lake.deliver([record(1)]);
    expect(lake.flushDueInMs()).toBe(0);
    await lake.flush();
    expect(lake.flushDueInMs()).toBeUndefined();
  });

  it('records delivered after a flush are due one buffer interval after that flush, as shouldFlush says', async () => {
    const { lake, store, advance } = target(1);
    await lake.deliver([record(1)]);
    await lake.flush();
    expect(store.objects.size).toBe(1);
    advance(300);
    await lake.deliver([record(2)]);
    expect(lake.flushDueInMs()).toBe(700);
    expect(lake.shouldFlush()).toBe(false);
    advance(699);
    expect(lake.flushDueInMs()).toBe(1);
    expect(lake.shouldFlush()).toBe(false);
    advance(1);
    expect(lake.flushDueInMs()).toBe(0);
    expect(lake.shouldFlush()).toBe(true);
  });

  it('an empty delivery buffers nothing; targets that do not buffer by time have nothing due', async () => {
    const { lake } = target(1);
    await lake.deliver([]);
    expect(lake.flushDueInMs()).toBeUndefined();
    const other: PipeTarget = { deliver: async () => undefined, flush: async () => undefined };
    expect(flushDueInMs(other)).toBeUndefined();
    await lake.deliver([record(1)]);
    expect(flushDueInMs(lake)).toBe(1000);
  });
});
