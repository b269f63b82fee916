/** An event as published to a bus (EventBridge in AWS, an in-process bus locally). */
export interface BusEvent<TDetail = unknown> {
  /** Event source, e.g. `tributary.patients`. */
  source: string;
  /** EventBridge detail-type, e.g. `PatientChange`. */
  detailType: string;
  /** JSON-serialisable payload. */
  detail: TDetail;
  /** Event time; defaults to publish time. */
  time?: Date;
  /** Optional ARNs or ids the event concerns. */
  resources?: string[];
}

/** Outcome of a publish: the events that could not be delivered after retries. */
export interface PublishResult {
  published: number;
  failed: Array<{ event: BusEvent; errorCode?: string; errorMessage?: string }>;
}

/** Port for publishing events. Implementations batch and retry as their backend needs. */
export interface EventBus {
  publish(events: readonly BusEvent[]): Promise<PublishResult>;
}
