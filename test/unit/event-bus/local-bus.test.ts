import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalEventBus, type DeliveredEvent } from '../../../src/event-bus/index.js';
import { DirectoryObjectStore } from '../../../src/local/object-store/directory-object-store.js';
import type { BusEvent } from '../../../src/ports/event-bus.js';

let dir: string;
let store: DirectoryObjectStore;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tributary-local-bus-'));
  store = new DirectoryObjectStore(dir);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const clock = { now: () => new Date('2024-03-05T06:07:08Z') };
const event = (n: number, detailType = 'PatientChange', time?: Date): BusEvent => ({
  source: 'tributary.patients',
  detailType,
  detail: { n },
  ...(time ? { time } : {}),
});

async function keys(prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for await (const info of store.list(prefix)) out.push(info.key);
  return out;
}

async function lines(key: string): Promise<Array<Record<string, unknown>>> {
  const body = await store.get(key);
  return gunzipSync(body!)
    .toString('utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('LocalEventBus', () => {
  it('buffers until flush, then writes gzipped NDJSON under events/<detail-type>/year=/month=/day=/', async () => {
    const bus = new LocalEventBus({ store, clock });
    const result = await bus.publish([event(1), event(2, 'PatientChange', new Date('2024-12-31T23:59:59Z'))]);
    expect(result).toEqual({ published: 2, failed: [] });
    expect(bus.bufferedCount).toBe(2);
    expect(await keys()).toEqual([]);

    const flushed = await bus.flush();
    expect(flushed.events).toBe(2);
    expect(bus.bufferedCount).toBe(0);
    const written = await keys();
    expect(written).toHaveLength(2);
    expect(
      written.every((k) =>
        /^events\/PatientChange\/year=\d{4}\/month=\d{2}\/day=\d{2}\/[0-9a-f]{32}\.ndjson\.gz$/.test(k),
      ),
    ).toBe(true);
    const [march] = written.filter((k) => k.includes('year=2024/month=03/day=05/'));
    expect(await lines(march!)).toEqual([
      {
        id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
        detail_type: 'PatientChange',
        source: 'tributary.patients',
        time: '2024-03-05T06:07:08.000Z',
        resources: [],
        detail: { n: 1 },
      },
    ]);
    expect(written.some((k) => k.includes('year=2024/month=12/day=31/'))).toBe(true);
  });

  it('separates detail-types and sanitises them as path segments', async () => {
    const bus = new LocalEventBus({ store, clock });
    await bus.publish([event(1, 'A'), event(2, 'B'), event(3, '../evil')]);
    await bus.flush();
    const written = await keys();
    expect(written.map((k) => k.split('/')[1]).sort()).toEqual(['%2E%2E%2Fevil', 'A', 'B']);
  });

  it('replaying the same events overwrites the same file', async () => {
    const first = new LocalEventBus({ store, clock });
    await first.publish([event(1), event(2)]);
    const { keys: firstKeys } = await first.flush();
    const replay = new LocalEventBus({ store, clock });
    await replay.publish([event(1), event(2), event(1)]);
    const { keys: replayKeys } = await replay.flush();
    expect(replayKeys).toEqual(firstKeys);
    expect(await keys()).toEqual(firstKeys);
    expect((await lines(firstKeys[0]!)).map((l) => (l.detail as { n: number }).n)).toEqual([1, 2]);
  });

  it('flushing an empty buffer writes nothing', async () => {
    expect(await new LocalEventBus({ store, clock }).flush()).toEqual({ keys: [], events: 0 });
    expect(await keys()).toEqual([]);
  });

  it('delivers to subscribers by detail-type, *, RegExp and predicate, and stops after unsubscribe', async () => {
    const bus = new LocalEventBus({ store, clock });
    const seen: Record<string, number[]> = { exact: [], all: [], regexp: [], predicate: [] };
    const n = (e: DeliveredEvent) => (e.detail as { n: number }).n;
    const stop = bus.subscribe('PatientChange', (e) => void seen.exact!.push(n(e)));
    bus.subscribe('*', (e) => void seen.all!.push(n(e)));
    bus.subscribe(/^Fhir/, (e) => void seen.regexp!.push(n(e)));
    bus.subscribe(
      (e) => e.source === 'other',
      (e) => void seen.predicate!.push(n(e)),
    );
    await bus.publish([event(1), event(2, 'FhirResourceChanged'), { ...event(3, 'X'), source: 'other' }]);
    stop();
    await bus.publish([event(4)]);
    expect(seen).toEqual({ exact: [1], all: [1, 2, 3, 4], regexp: [2], predicate: [3] });
  });

  it('gives subscribers the event id and time that land in the lake', async () => {
    const bus = new LocalEventBus({ store, clock });
    const delivered: DeliveredEvent[] = [];
    bus.subscribe('*', (e) => void delivered.push(e));
    await bus.publish([event(1)]);
    const { keys: written } = await bus.flush();
    const [line] = await lines(written[0]!);
    expect(delivered[0]?.id).toBe(line?.id);
    expect(delivered[0]?.time.toISOString()).toBe(line?.time);
  });

  it('reports events whose subscriber throws, without the error message, and still lands them', async () => {
    const bus = new LocalEventBus({ store, clock });
    bus.subscribe('PatientChange', async (e) => {
      if ((e.detail as { n: number }).n === 2) throw new Error('Jolene Dravenhart exploded');
    });
    const result = await bus.publish([event(1), event(2)]);
    expect(result.published).toBe(1);
    expect(result.failed).toEqual([{ event: event(2), errorCode: 'SubscriberFailed', errorMessage: 'Error' }]);
    expect((await bus.flush()).events).toBe(2);
  });

  it('keeps events buffered when the store fails, and writes them on the next flush', async () => {
    let fail = true;
    const flaky = {
      url: store.url,
      put: async (...args: Parameters<DirectoryObjectStore['put']>) => {
        if (fail) throw new Error('disk full');
        return store.put(...args);
      },
      get: (key: string) => store.get(key),
      getStream: (key: string) => store.getStream(key),
      list: (prefix: string) => store.list(prefix),
      delete: (key: string) => store.delete(key),
    };
    const bus = new LocalEventBus({ store: flaky, clock });
    await bus.publish([event(1)]);
    await expect(bus.flush()).rejects.toThrow('disk full');
    expect(bus.bufferedCount).toBe(1);
    fail = false;
    expect((await bus.flush()).events).toBe(1);
    expect(await keys()).toHaveLength(1);
  });
});
