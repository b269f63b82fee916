import type { BusEvent } from '../ports/event-bus.js';

/** A line of a local events file; columns match the DuckDB `events` view. */
export interface EventLine {
  /** Deterministic event id (hash of source, detail-type, time and detail). */
  id: string;
  detail_type: string;
  source: string;
  /** ISO-8601 UTC. */
  time: string;
  resources: string[];
  detail: unknown;
}

/** A delivered event as local subscribers see it: the bus event plus its id and time. */
export interface DeliveredEvent<TDetail = unknown> extends BusEvent<TDetail> {
  id: string;
  time: Date;
}

/** Receives delivered events; may be async. */
export type EventListener = (event: DeliveredEvent) => void | Promise<void>;

/** What a subscription matches: a detail-type, `*` for all, a RegExp on the detail-type, or a predicate. */
export type EventSelector = string | RegExp | ((event: DeliveredEvent) => boolean);
