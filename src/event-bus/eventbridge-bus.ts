import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { BusEvent, EventBus, PublishResult } from '../ports/event-bus.js';
import { EventBusConfigError } from './errors.js';
import { chunkPutEventsEntries, PUT_EVENTS_MAX_BYTES, putEventsEntrySize } from './entry-size.js';

/** Options of {@link EventBridgeBus}. */
export interface EventBridgeBusOptions {
  /** Default: a new client from the environment. */
  client?: EventBridgeClient;
  /** Bus name or ARN. Default: the account's `default` bus. */
  eventBusName?: string;
  /** Attempts per entry, first included. Default 4. */
  maxAttempts?: number;
  /** First retry delay; doubles each attempt, with full jitter. Default 100 ms. */
  baseDelayMs?: number;
  /** Cap of one retry delay. Default 5000 ms. */
  maxDelayMs?: number;
  /** Injected for tests. */
  sleep?: (ms: number) => Promise<void>;
  /** Injected for tests; returns [0, 1). */
  random?: () => number;
}

interface Failure {
  errorCode: string;
  errorMessage: string;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * {@link EventBus} over Amazon EventBridge `PutEvents`: calls of at most 10 entries and 256 KB
 * (sized as EventBridge does), retrying only the entries EventBridge reports failed, with
 * exponential backoff and full jitter, up to `maxAttempts`. An entry too large on its own is
 * reported failed (`EntryTooLarge`) without being sent. Whatever still fails is returned, never thrown.
 *
 * @example
 * const bus = new EventBridgeBus({ eventBusName: 'tributary' });
 * const { failed } = await bus.publish(toPatientBusEvents(events));
 */
export class EventBridgeBus implements EventBus {
  readonly #client: EventBridgeClient;
  readonly #eventBusName: string | undefined;
  readonly #maxAttempts: number;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;

  public constructor(options: EventBridgeBusOptions = {}) {
    this.#client = options.client ?? new EventBridgeClient({});
    this.#eventBusName = options.eventBusName;
    this.#maxAttempts = options.maxAttempts ?? 4;
    if (!Number.isInteger(this.#maxAttempts) || this.#maxAttempts < 1) {
      throw new EventBusConfigError('maxAttempts must be a positive integer');
    }
    this.#baseDelayMs = options.baseDelayMs ?? 100;
    this.#maxDelayMs = options.maxDelayMs ?? 5000;
    this.#sleep = options.sleep ?? defaultSleep;
    this.#random = options.random ?? Math.random;
  }

  public async publish(events: readonly BusEvent[]): Promise<PublishResult> {
    const entries = events.map((event) => this.#toEntry(event));
    const sizes = entries.map(putEventsEntrySize);
    const failures = new Map<number, Failure>();
    let pending: number[] = [];
    sizes.forEach((size, index) => {
      if (size > PUT_EVENTS_MAX_BYTES) {
        failures.set(index, {
          errorCode: 'EntryTooLarge',
          errorMessage: `entry is ${size} bytes; PutEvents allows ${PUT_EVENTS_MAX_BYTES}`,
        });
      } else pending.push(index);
    });

    for (let attempt = 1; pending.length > 0; attempt += 1) {
      const failedNow = new Map<number, Failure>();
      for (const chunk of chunkPutEventsEntries(sizes, pending)) {
        for (const [index, failure] of await this.#send(chunk, entries)) failedNow.set(index, failure);
      }
      pending = [...failedNow.keys()];
      if (pending.length === 0 || attempt >= this.#maxAttempts) {
        for (const [index, failure] of failedNow) failures.set(index, failure);
        break;
      }
      const ceiling = Math.min(this.#maxDelayMs, this.#baseDelayMs * 2 ** (attempt - 1));
      await this.#sleep(Math.floor(this.#random() * ceiling));
    }

    const failed = [...failures.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, failure]) => ({ event: events[index] as BusEvent, ...failure }));
    return { published: events.length - failed.length, failed };
  }

  /** Sends one chunk; returns the entries that failed, by index. */
  async #send(chunk: readonly number[], entries: readonly PutEventsRequestEntry[]): Promise<Map<number, Failure>> {
    const failed = new Map<number, Failure>();
    try {
      const response = await this.#client.send(
        new PutEventsCommand({ Entries: chunk.map((index) => entries[index] as PutEventsRequestEntry) }),
      );
      if (!response.FailedEntryCount) return failed;
      // Result entries line up with request entries; a failed one has an ErrorCode.
      (response.Entries ?? []).forEach((result, position) => {
        const index = chunk[position];
        if (index !== undefined && result.ErrorCode) {
          failed.set(index, { errorCode: result.ErrorCode, errorMessage: result.ErrorMessage ?? '' });
        }
      });
    } catch (error) {
      // The SDK already retried transport errors; count the whole call as one failed attempt.
      const name = error instanceof Error ? error.name : 'UnknownError';
      for (const index of chunk) failed.set(index, { errorCode: name, errorMessage: 'PutEvents call failed' });
    }
    return failed;
  }

  #toEntry(event: BusEvent): PutEventsRequestEntry {
    return {
      Source: event.source,
      DetailType: event.detailType,
      Detail: JSON.stringify(event.detail ?? {}),
      ...(event.time ? { Time: event.time } : {}),
      ...(event.resources?.length ? { Resources: [...event.resources] } : {}),
      ...(this.#eventBusName ? { EventBusName: this.#eventBusName } : {}),
    };
  }
}
