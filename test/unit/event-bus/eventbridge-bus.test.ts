import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import {
  chunkPutEventsEntries,
  EventBridgeBus,
  EventBusConfigError,
  PUT_EVENTS_MAX_BYTES,
  putEventsEntrySize,
} from '../../../src/event-bus/index.js';
import type { BusEvent } from '../../../src/ports/event-bus.js';

const eventBridge = mockClient(EventBridgeClient);
afterEach(() => eventBridge.reset());

const sleeps: number[] = [];
function bus(options: ConstructorParameters<typeof EventBridgeBus>[0] = {}) {
  sleeps.length = 0;
  return new EventBridgeBus({
    client: new EventBridgeClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }),
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.999,
    ...options,
  });
}

const event = (n: number, detail: unknown = { n }): BusEvent => ({
  source: 'tributary.patients',
  detailType: 'PatientChange',
  detail,
  time: new Date('2024-01-01T00:00:00Z'),
});

const sentEntries = () =>
  eventBridge.commandCalls(PutEventsCommand).map((call) => call.args[0].input.Entries as PutEventsRequestEntry[]);

describe('putEventsEntrySize', () => {
  it('counts UTF-8 bytes of Source, DetailType, Detail and Resources, plus 14 for Time', () => {
    expect(putEventsEntrySize({ Source: 'ab', DetailType: 'cd', Detail: '{"n":"é"}', Resources: ['r1', 'r22'] })).toBe(
      2 + 2 + 10 + 2 + 3,
    );
    expect(
      putEventsEntrySize({ Source: 'ab', DetailType: 'cd', Detail: '{}', Time: new Date(), EventBusName: 'long-name' }),
    ).toBe(2 + 2 + 2 + 14);
  });

  it('chunks by 10 entries and by 256 KB', () => {
    expect(chunkPutEventsEntries(Array(25).fill(100), [...Array(25).keys()]).map((c) => c.length)).toEqual([10, 10, 5]);
    const big = PUT_EVENTS_MAX_BYTES / 2 - 10;
    expect(chunkPutEventsEntries([big, big, big, 30], [0, 1, 2, 3])).toEqual([
      [0, 1],
      [2, 3],
    ]);
  });
});

describe('EventBridgeBus', () => {
  it('sends 25 events in 3 calls of at most 10, to the configured bus', async () => {
    eventBridge.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => ({
      FailedEntryCount: 0,
      Entries: input.Entries.map((_, i) => ({ EventId: `id-${i}` })),
    }));
    const result = await bus({ eventBusName: 'tributary-bus' }).publish(Array.from({ length: 25 }, (_, i) => event(i)));
    expect(result).toEqual({ published: 25, failed: [] });
    const calls = sentEntries();
    expect(calls.map((entries) => entries.length)).toEqual([10, 10, 5]);
    expect(calls.flat().map((e) => JSON.parse(e.Detail ?? '{}').n)).toEqual([...Array(25).keys()]);
    expect(calls.flat().every((e) => e.EventBusName === 'tributary-bus' && e.Source === 'tributary.patients')).toBe(
      true,
    );
    expect(calls[0]?.[0]).toMatchObject({ DetailType: 'PatientChange', Time: new Date('2024-01-01T00:00:00Z') });
  });

  it('splits calls by size so none exceeds 256 KB', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
    const padding = 'x'.repeat(100 * 1024);
    const result = await bus().publish([event(0, { padding }), event(1, { padding }), event(2, { padding })]);
    expect(result.published).toBe(3);
    const calls = sentEntries();
    expect(calls.map((entries) => entries.length)).toEqual([2, 1]);
    for (const entries of calls) {
      expect(entries.reduce((sum, e) => sum + putEventsEntrySize(e), 0)).toBeLessThanOrEqual(PUT_EVENTS_MAX_BYTES);
    }
  });

  it('retries only the entries reported failed, with exponential backoff, until they succeed', async () => {
    eventBridge
      .on(PutEventsCommand)
      .resolvesOnce({
        FailedEntryCount: 2,
        Entries: [
          { EventId: 'a' },
          { ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' },
          { EventId: 'c' },
          { ErrorCode: 'InternalFailure' },
        ],
      })
      .resolvesOnce({ FailedEntryCount: 1, Entries: [{ EventId: 'b' }, { ErrorCode: 'InternalFailure' }] })
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'd' }] });
    const result = await bus({ baseDelayMs: 100 }).publish([event(0), event(1), event(2), event(3)]);
    expect(result).toEqual({ published: 4, failed: [] });
    expect(sentEntries().map((entries) => entries.map((e) => JSON.parse(e.Detail ?? '{}').n))).toEqual([
      [0, 1, 2, 3],
      [1, 3],
      [3],
    ]);
    expect(sleeps).toEqual([99, 199]);
  });

  it('reports entries that still fail after maxAttempts', async () => {
    eventBridge.on(PutEventsCommand).callsFake((input: { Entries: Array<{ Detail: string }> }) => ({
      FailedEntryCount: input.Entries.filter((e) => JSON.parse(e.Detail).n === 1).length,
      Entries: input.Entries.map((e) =>
        JSON.parse(e.Detail).n === 1 ? { ErrorCode: 'InternalFailure', ErrorMessage: 'boom' } : { EventId: 'ok' },
      ),
    }));
    const events = [event(0), event(1), event(2)];
    const result = await bus({ maxAttempts: 3 }).publish(events);
    expect(result.published).toBe(2);
    expect(result.failed).toEqual([{ event: events[1], errorCode: 'InternalFailure', errorMessage: 'boom' }]);
    expect(sentEntries()).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
  });

  it('retries a call that throws, then reports its entries', async () => {
    eventBridge.on(PutEventsCommand).rejects(Object.assign(new Error('nope'), { name: 'AccessDeniedException' }));
    const result = await bus({ maxAttempts: 2 }).publish([event(0)]);
    expect(result.failed.map((f) => f.errorCode)).toEqual(['AccessDeniedException']);
    expect(sentEntries()).toHaveLength(2);
  });

  it('fails an oversize entry without sending it and sends the rest', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'a' }] });
    const huge = event(1, { padding: 'x'.repeat(PUT_EVENTS_MAX_BYTES) });
    const result = await bus().publish([event(0), huge]);
    expect(result.published).toBe(1);
    expect(result.failed).toEqual([
      { event: huge, errorCode: 'EntryTooLarge', errorMessage: expect.stringMatching(/^entry is \d+ bytes/) },
    ]);
    expect(sentEntries()).toEqual([[expect.objectContaining({ Detail: '{"n":0}' })]]);
  });

  it('makes no call for an empty publish and rejects a bad maxAttempts', async () => {
    expect(await bus().publish([])).toEqual({ published: 0, failed: [] });
    expect(sentEntries()).toHaveLength(0);
    expect(() => bus({ maxAttempts: 0 })).toThrow(EventBusConfigError);
  });
});
