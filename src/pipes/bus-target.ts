import type { ErrorSink } from '../lake/error-sink.js';
import type { BusEvent, EventBus } from '../ports/event-bus.js';
import type { PipeTarget } from './types.js';

/** A bus that buffers for the lake (the local bus) exposes `flush`. */
type FlushableBus = EventBus & { flush?: () => Promise<unknown> };

/**
 * A pipe target that publishes the (enriched) batch to an event bus; events the bus reports as
 * failed go to the error location with their reason.
 *
 * @example
 * const target = new BusTarget(bus, errors);
 * await target.deliver(toPatientBusEvents(changes));
 */
export class BusTarget implements PipeTarget {
  public published = 0;
  public failed = 0;

  public constructor(
    private readonly bus: FlushableBus,
    private readonly errors: ErrorSink,
  ) {}

  public async deliver(items: unknown[]): Promise<void> {
    const result = await this.bus.publish(items as BusEvent[]);
    this.published += result.published;
    this.failed += result.failed.length;
    for (const failure of result.failed) {
      await this.errors.add({
        reason: failure.errorMessage ?? 'the bus did not accept the event',
        errorType: failure.errorCode ?? 'PublishFailed',
        record: failure.event,
      });
    }
  }

  public async flush(): Promise<void> {
    await this.bus.flush?.();
    await this.errors.flush();
  }

  public shouldFlush(): boolean {
    return true;
  }
}
