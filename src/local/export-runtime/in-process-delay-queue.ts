import type { DelayQueue } from '../../fhir-export/workflow-ports.js';

/** Options of {@link InProcessDelayQueue}. */
export interface InProcessDelayQueueOptions<TMessage> {
  /** Processes one message; a throw redelivers it after `retryDelayMs` (like an SQS visibility timeout). */
  consume: (message: TMessage) => Promise<void>;
  /** Deliveries before a message is dropped (like an SQS redrive policy). Default 5. */
  maxReceives?: number;
  /** Default 1000 ms. */
  retryDelayMs?: number;
  /** Told about dropped messages and consumer errors (names only). */
  onError?: (error: unknown, dropped: boolean) => void;
}

/**
 * The local stand-in for an SQS queue with `DelaySeconds`: each message is delivered to the consumer after its
 * delay, redelivered when the consumer throws. Messages live in memory: a process that dies loses them, and the
 * workflow's heartbeat/restart handling fails the waiting task cleanly.
 *
 * @example
 * const queue = new InProcessDelayQueue({ consume: async (m) => checkExportStep(m, deps) });
 * await queue.send(message, 30);
 */
export class InProcessDelayQueue<TMessage> implements DelayQueue<TMessage> {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;

  public constructor(private readonly options: InProcessDelayQueueOptions<TMessage>) {}

  public async send(message: TMessage, delaySeconds: number): Promise<void> {
    if (this.closed) throw new Error('queue is closed');
    this.schedule(structuredClone(message), Math.max(0, delaySeconds) * 1000, 1);
  }

  /** Messages waiting or being processed. */
  public get size(): number {
    return this.timers.size + this.inFlight.size;
  }

  /** Drops waiting messages and waits for those being processed. */
  public async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await Promise.allSettled([...this.inFlight]);
  }

  private schedule(message: TMessage, delayMs: number, receive: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.closed) return;
      const run = (async () => {
        try {
          await this.options.consume(message);
        } catch (error) {
          const maxReceives = this.options.maxReceives ?? 5;
          const dropped = receive >= maxReceives || this.closed;
          this.options.onError?.(error, dropped);
          if (!dropped) this.schedule(message, this.options.retryDelayMs ?? 1000, receive + 1);
        }
      })();
      this.inFlight.add(run);
      void run.finally(() => this.inFlight.delete(run));
    }, delayMs);
    this.timers.add(timer);
  }
}
