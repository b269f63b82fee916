import type { StreamRecord } from '../change-stream/types.js';
import type { CheckpointStore } from './checkpoint-store.js';
import { PipeBusyError } from './errors.js';
import type { Enrichment, PipeSource, PipeStats, PipeTarget } from './types.js';

/** What a pipe is made of: the local equivalent of an EventBridge Pipe. */
export interface PipeDefinition {
  /** Unique pipe name; checkpoints and leases are keyed by it. */
  name: string;
  source: PipeSource;
  /** Filter criteria, compiled (see `compileFilters`). Absent: everything passes. */
  filter?: { test(event: unknown): boolean };
  enrichment?: Enrichment;
  target: PipeTarget;
  /** Records per batch handed to enrichment and target. */
  batchSize: number;
}

/** Options of {@link PipeRunner}. */
export interface PipeRunnerOptions {
  /** Identity of this consumer, for the lease (e.g. `up:<pid>`). */
  owner: string;
  /** Lease length; a consumer that dies frees the pipe after this. Default 60 s. */
  leaseMs?: number;
  /** How long `drain` waits for another consumer's lease. Default 30 s. */
  leaseWaitMs?: number;
}

/**
 * Runs one pipe: source → filter → enrichment → target, in batches, committing a shard's position
 * only after the target has flushed what was delivered (at-least-once, never skipping).
 *
 * @example
 * const runner = new PipeRunner(pipe, checkpoints, { owner: 'sync' });
 * const stats = await runner.drain();
 */
export class PipeRunner {
  public readonly stats: PipeStats = { read: 0, filteredOut: 0, delivered: 0, batches: 0, flushes: 0 };
  private readonly pending = new Map<string, string>();
  private readonly leaseMs: number;
  private readonly leaseWaitMs: number;

  public constructor(
    public readonly pipe: PipeDefinition,
    private readonly checkpoints: CheckpointStore,
    private readonly options: PipeRunnerOptions,
  ) {
    this.leaseMs = options.leaseMs ?? 60_000;
    this.leaseWaitMs = options.leaseWaitMs ?? 30_000;
  }

  /** Reads everything available now, delivers it, flushes the target and commits. */
  public async drain(): Promise<PipeStats> {
    await this.withLease(async () => {
      await this.readAvailable();
      await this.flush();
    });
    return { ...this.stats };
  }

  /**
   * Reads what is available and delivers it; flushes only when the target asks (size or age),
   * as a long-running pipe with a buffering target does. Returns false if another consumer holds the pipe.
   */
  public async poll(): Promise<boolean> {
    if (!this.checkpoints.tryLease(this.pipe.name, this.options.owner, this.leaseMs)) return false;
    try {
      await this.readAvailable();
      if (this.pipe.target.shouldFlush?.()) await this.flush();
      return true;
    } finally {
      // Keep the lease only while data is buffered but not committed.
      if (this.pending.size === 0) this.checkpoints.releaseLease(this.pipe.name, this.options.owner);
    }
  }

  /** Flushes the target and commits every delivered position. */
  public async flush(): Promise<void> {
    await this.rewindOnFailure(() => this.pipe.target.flush());
    this.stats.flushes += 1;
    for (const [shard, seq] of this.pending) this.checkpoints.commit(this.pipe.name, shard, seq);
    this.pending.clear();
  }

  /** Flushes and gives the lease back (shutdown). */
  public async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      // A failed flush has forgotten its uncommitted positions, so another consumer may take over at once.
      this.checkpoints.releaseLease(this.pipe.name, this.options.owner);
    }
  }

  /**
   * A failed deliver or flush may have dropped buffered lines of batches delivered earlier (the lake writer does not
   * keep the lines of a failed write). Their positions must then never be committed: forget them, so the next read
   * replays from the last committed checkpoint (at least once, never skipping).
   */
  private async rewindOnFailure<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      this.pending.clear();
      throw error;
    }
  }

  private async readAvailable(): Promise<void> {
    await this.rewindOnFailure(() => this.readAndDeliver());
  }

  private async readAndDeliver(): Promise<void> {
    const reader = this.checkpoints.reader(this.pipe.name);
    // Positions already delivered but not yet committed must not be read twice in one process.
    const positions = { get: (shard: string) => this.pending.get(shard) ?? reader.get(shard) };
    for await (const batch of this.pipe.source.read(positions, this.pipe.batchSize)) {
      // Renew the lease per batch: a long backlog must not outlive it and let a second consumer read the same records.
      if (!this.checkpoints.tryLease(this.pipe.name, this.options.owner, this.leaseMs))
        throw new PipeBusyError(this.pipe.name);
      this.stats.read += batch.records.length;
      const passed = this.pipe.filter ? batch.records.filter((r) => this.pipe.filter!.test(r)) : batch.records;
      this.stats.filteredOut += batch.records.length - passed.length;
      if (passed.length > 0) await this.process(passed);
      this.pending.set(batch.shardId, batch.lastSequenceNumber);
    }
  }

  private async process(records: StreamRecord[]): Promise<void> {
    const items = this.pipe.enrichment ? await this.pipe.enrichment(records) : records;
    this.stats.batches += 1;
    if (items.length === 0) return; // enrichment returned [] : the batch is dropped
    await this.pipe.target.deliver(items);
    this.stats.delivered += items.length;
  }

  private async withLease<T>(work: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.leaseWaitMs;
    while (!this.checkpoints.tryLease(this.pipe.name, this.options.owner, this.leaseMs)) {
      if (Date.now() > deadline) throw new PipeBusyError(this.pipe.name);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    try {
      return await work();
    } finally {
      this.checkpoints.releaseLease(this.pipe.name, this.options.owner);
    }
  }
}
