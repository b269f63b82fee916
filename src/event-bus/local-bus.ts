import { createHash } from 'node:crypto';
import { gzipDeterministic } from '../lake/deterministic-gzip.js';
import { datePartitions, hivePath, lakeLayout } from '../lake/layout.js';
import { systemClock, type Clock } from '../ports/clock.js';
import type { BusEvent, EventBus, PublishResult } from '../ports/event-bus.js';
import type { ObjectStore } from '../ports/object-store.js';
import type { DeliveredEvent, EventLine, EventListener, EventSelector } from './types.js';

/** Options of {@link LocalEventBus}. */
export interface LocalEventBusOptions {
  /** The lake. Events land under `events/<detail-type>/year=/month=/day=/`. */
  store: ObjectStore;
  /** Time of events published without one. Default the system clock. */
  clock?: Clock;
}

/** Result of {@link LocalEventBus.flush}. */
export interface FlushResult {
  /** Keys written, in order. */
  keys: string[];
  events: number;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** An id shaped like EventBridge's (UUID), derived from the event's content, so a replay keeps its id. */
function eventIdOf(event: BusEvent, time: Date): string {
  const hex = sha256(JSON.stringify([event.source, event.detailType, time.toISOString(), event.detail ?? null]));
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function matches(selector: EventSelector, event: DeliveredEvent): boolean {
  if (typeof selector === 'function') return selector(event);
  if (selector instanceof RegExp) return selector.test(event.detailType);
  return selector === '*' || selector === event.detailType;
}

/**
 * In-process {@link EventBus}: delivers each published event to local subscribers at once and
 * buffers it for the lake; {@link LocalEventBus.flush} writes the buffer as gzipped NDJSON to
 * `events/<detail-type>/year=YYYY/month=MM/day=DD/<hash of event ids>.ndjson.gz`, one line
 * `{id, detail_type, source, time, resources, detail}` per event. Event ids and file names are
 * derived from content, so replaying the same events overwrites the same files.
 *
 * A subscriber that throws does not stop the others; its event is reported in `failed`
 * (`SubscriberFailed`) and is still kept for the lake.
 *
 * @example
 * const bus = new LocalEventBus({ store: new DirectoryObjectStore('.tributary/lake') });
 * bus.subscribe('PatientChange', (event) => console.log(event.id));
 * await bus.publish(toPatientBusEvents(events));
 * await bus.flush();
 */
export class LocalEventBus implements EventBus {
  readonly #store: ObjectStore;
  readonly #clock: Clock;
  readonly #subscriptions = new Set<{ selector: EventSelector; listener: EventListener }>();
  /** Buffered lines by event id: publishing the same event twice buffers it once. */
  #buffer = new Map<string, EventLine>();

  public constructor(options: LocalEventBusOptions) {
    this.#store = options.store;
    this.#clock = options.clock ?? systemClock;
  }

  /** Events waiting for {@link LocalEventBus.flush}. */
  public get bufferedCount(): number {
    return this.#buffer.size;
  }

  /**
   * Calls `listener` for every later event whose detail-type matches (`*` for all), a RegExp
   * on the detail-type, or a predicate. Returns a function that unsubscribes.
   *
   * @example
   * const stop = bus.subscribe(/^Patient/, async (event) => writeThrough.apply(event.detail as PatientChange));
   */
  public subscribe(selector: EventSelector, listener: EventListener): () => void {
    const subscription = { selector, listener };
    this.#subscriptions.add(subscription);
    return () => {
      this.#subscriptions.delete(subscription);
    };
  }

  public async publish(events: readonly BusEvent[]): Promise<PublishResult> {
    const failed: PublishResult['failed'] = [];
    for (const event of events) {
      const time = event.time ?? this.#clock.now();
      const delivered: DeliveredEvent = { ...event, id: eventIdOf(event, time), time };
      this.#buffer.set(delivered.id, {
        id: delivered.id,
        detail_type: event.detailType,
        source: event.source,
        time: time.toISOString(),
        resources: [...(event.resources ?? [])],
        detail: event.detail,
      });
      for (const { selector, listener } of this.#subscriptions) {
        try {
          if (matches(selector, delivered)) await listener(delivered);
        } catch (error) {
          // The error's message may describe the event's content; keep its type only.
          failed.push({
            event,
            errorCode: 'SubscriberFailed',
            errorMessage: error instanceof Error ? error.name : 'UnknownError',
          });
          break;
        }
      }
    }
    return { published: events.length - failed.length, failed };
  }

  /**
   * Writes buffered events to the lake, one file per detail-type and day. Files that fail to
   * write stay buffered for the next flush.
   *
   * @example
   * const { keys } = await bus.flush();
   */
  public async flush(): Promise<FlushResult> {
    const groups = new Map<string, EventLine[]>();
    for (const line of this.#buffer.values()) {
      const prefix = `${lakeLayout.events(line.detail_type)}${hivePath(datePartitions(new Date(line.time)))}`;
      const group = groups.get(prefix) ?? [];
      group.push(line);
      groups.set(prefix, group);
    }
    const keys: string[] = [];
    let events = 0;
    for (const [prefix, lines] of groups) {
      const name = sha256(lines.map((line) => line.id).join('\n')).slice(0, 32);
      const key = `${prefix}${name}.ndjson.gz`;
      // Same bytes for the same events (a replay overwrites), compressed off the event loop.
      const body = await gzipDeterministic(lines.map((line) => `${JSON.stringify(line)}\n`).join(''));
      await this.#store.put(key, body, { contentType: 'application/x-ndjson' });
      for (const line of lines) this.#buffer.delete(line.id);
      keys.push(key);
      events += lines.length;
    }
    return { keys, events };
  }
}
