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
  /**
   * Seconds a long-running pipe gathers records before delivering a batch smaller than `batchSize`
   * (Pipes' MaximumBatchingWindowInSeconds). 0 delivers what is there at once. `drain` never waits.
   */
  batchWindowSeconds?: number;
}

/** A record read and passed by the filter, waiting to fill a batch. */
interface GatheredRecord {
  record: StreamRecord;
  shardId: string;
  seq: string;
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
  public readonly stats: PipeStats = { read: 0, filteredOut: 0, delivered: 0, batches: 0, flushes: 0, rejected: 0 };
  /** Per shard: position up to which everything was delivered (or filtered out), not yet committed. */
  private readonly pending = new Map<string, string>();
  /** Per shard: position up to which records were read (some may still be gathered). */
  private readonly readUpTo = new Map<string, string>();
  private gathered: GatheredRecord[] = [];
  private gatheredSince = 0;
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
      await this.rewindOnFailure(() => this.deliverGathered(true));
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
      const windowMs = (this.pipe.batchWindowSeconds ?? 0) * 1000;
      await this.rewindOnFailure(() => this.deliverGathered(Date.now() - this.gatheredSince >= windowMs));
      if (this.pipe.target.shouldFlush?.()) await this.flush();
      return true;
    } finally {
      // Keep the lease only while data is gathered or buffered but not committed.
      if (this.pending.size === 0 && this.readUpTo.size === 0) {
        this.checkpoints.releaseLease(this.pipe.name, this.options.owner);
      }
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
      await this.rewindOnFailure(() => this.deliverGathered(true));
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
      this.readUpTo.clear();
      this.gathered = [];
      throw error;
    }
  }

  private async readAvailable(): Promise<void> {
    await this.rewindOnFailure(() => this.readAndDeliver());
  }

  private async readAndDeliver(): Promise<void> {
    const reader = this.checkpoints.reader(this.pipe.name);
    // Records already read (gathered, or delivered but not committed) must not be read twice in one process.
    const positions = {
      get: (shard: string) => this.readUpTo.get(shard) ?? this.pending.get(shard) ?? reader.get(shard),
    };
    for await (const batch of this.pipe.source.read(positions, this.pipe.batchSize)) {
      // Renew the lease per batch: a long backlog must not outlive it and let a second consumer read the same records.
      if (!this.checkpoints.tryLease(this.pipe.name, this.options.owner, this.leaseMs))
        throw new PipeBusyError(this.pipe.name);
      this.stats.read += batch.records.length;
      const passed = this.pipe.filter ? batch.records.filter((r) => this.pipe.filter!.test(r)) : batch.records;
      this.stats.filteredOut += batch.records.length - passed.length;
      if (this.gathered.length === 0) this.gatheredSince = Date.now();
      for (const record of passed) {
        this.gathered.push({
          record,
          shardId: batch.shardId,
          seq: record.dynamodb?.SequenceNumber ?? batch.lastSequenceNumber,
        });
      }
      this.readUpTo.set(batch.shardId, batch.lastSequenceNumber);
      await this.deliverGathered(false);
    }
  }

  /** Delivers full batches; with `all`, the partial one too. Advances the positions to commit. */
  private async deliverGathered(all: boolean): Promise<void> {
    while (this.gathered.length >= this.pipe.batchSize || (all && this.gathered.length > 0)) {
      const slice = this.gathered.slice(0, this.pipe.batchSize);
      await this.process(slice.map((g) => g.record));
      this.gathered = this.gathered.slice(slice.length);
      for (const { shardId, seq } of slice) this.pending.set(shardId, seq);
      this.gatheredSince = Date.now();
    }
    if (this.gathered.length === 0) {
      // Everything read was delivered or filtered out: the read positions are safe to commit.
      for (const [shard, seq] of this.readUpTo) this.pending.set(shard, seq);
      this.readUpTo.clear();
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
