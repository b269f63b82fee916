import type { StreamRecord } from '../change-stream/types.js';
import { describeOwner } from '../local/process-owner.js';
import type { CheckpointStore } from './checkpoint-store.js';
import { PipeBusyError } from './errors.js';
import { failureType } from './failure-type.js';
import type {
  Enrichment,
  GapReport,
  PipeBackfill,
  PipeErrorLocation,
  PipeSource,
  PipeStats,
  PipeTarget,
  StreamGap,
} from './types.js';

/**
 * Retries of a failing batch (and of a single record) when the pipe config does not say. Pipes' own default for
 * stream sources is -1 (retry until the record expires from the stream, 24 h): one bad record then holds the shard.
 */
export const DEFAULT_MAXIMUM_RETRY_ATTEMPTS = 3;

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
  /**
   * The pipe's error location (`_errors/<pipe>/`, Pipes' dead-letter target): a record whose delivery still fails after
   * retries and bisection goes here and the pipe moves on. Without one, such a record fails the pipe.
   */
  errors?: PipeErrorLocation;
  /**
   * Retries of a failing batch before it is bisected, and of a single record before it is rejected
   * (Pipes' MaximumRetryAttempts). Default {@link DEFAULT_MAXIMUM_RETRY_ATTEMPTS}.
   */
  maximumRetryAttempts?: number;
  /**
   * Snapshot and repair of what the stream cannot give: the initial snapshot of a table with items before the pipe's
   * first read, and the repair of shards the stream trimmed past the pipe's position. Without one, a trimmed shard
   * fails the pipe.
   */
  backfill?: PipeBackfill;
}

/** A record read and passed by the filter, waiting to fill a batch. */
interface GatheredRecord {
  record: StreamRecord;
  shardId: string;
  seq: string;
  /** Stream time of the record, epoch ms. */
  timeMs: number | undefined;
}

/** A shard position not committed yet, with the stream time of the last record behind it. */
interface Position {
  seq: string;
  timeMs: number | undefined;
}

/** Options of {@link PipeRunner}. */
export interface PipeRunnerOptions {
  /** Identity of this consumer, for the lease: `currentOwner(role)`, `role:host:pid`. */
  owner: string;
  /** Lease length; a consumer that dies on another host frees the pipe after this. Default 60 s. */
  leaseMs?: number;
  /** How long `drain` waits for another live consumer's lease. Default 30 s. */
  leaseWaitMs?: number;
  /** First delay between retries, doubled per retry up to 5 s. Default 200 ms. */
  retryBackoffMs?: number;
  /**
   * Where the runner reports what a person should know (waiting for a lease, rejected records). Lines carry pipe
   * names, event ids, sequence numbers, counts and error types, never record values. Default: silent.
   */
  log?: (line: string) => void;
}

const MAX_BACKOFF_MS = 5000;

/**
 * Runs one pipe: source → filter → enrichment → target, in batches, committing a shard's position
 * only after the target has flushed what was delivered (at-least-once, never skipping).
 * A failing batch is retried, then bisected down to the record at fault, which goes to the pipe's error location
 * (Pipes' MaximumRetryAttempts and AUTOMATIC_BISECT), so one poison record cannot stop the pipe.
 *
 * @example
 * const runner = new PipeRunner(pipe, checkpoints, { owner: currentOwner('sync'), log: console.error });
 * const stats = await runner.drain();
 */
export class PipeRunner {
  public readonly stats: PipeStats = {
    read: 0,
    filteredOut: 0,
    delivered: 0,
    batches: 0,
    flushes: 0,
    rejected: 0,
    gaps: 0,
  };
  /** Per shard: position up to which everything was delivered (or filtered out), not yet committed. */
  private readonly pending = new Map<string, Position>();
  /** Per shard: position up to which records were read (some may still be gathered). */
  private readonly readUpTo = new Map<string, Position>();
  /** Shards found behind the stream's trim horizon in this read, waiting for their repair. */
  private gaps: StreamGap[] = [];
  /** Repaired gaps not yet taken by {@link PipeRunner.takeGapReports}. */
  private gapReports: GapReport[] = [];
  private gathered: GatheredRecord[] = [];
  private gatheredSince = 0;
  private readonly leaseMs: number;
  private readonly leaseWaitMs: number;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly log: (line: string) => void;
  /** The last flush failed: read nothing more until a flush succeeds (memory stays bounded while the disk is full). */
  private flushFailing = false;
  /** Error-location entries already counted, per errorType. */
  private readonly rejectedSeen: Map<string, number>;
  /** The owner a poll last reported waiting for, so the line is printed once per holder. */
  private waitingFor: string | undefined;

  public constructor(
    public readonly pipe: PipeDefinition,
    private readonly checkpoints: CheckpointStore,
    private readonly options: PipeRunnerOptions,
  ) {
    this.leaseMs = options.leaseMs ?? 60_000;
    this.leaseWaitMs = options.leaseWaitMs ?? 30_000;
    this.retries = Math.max(0, pipe.maximumRetryAttempts ?? DEFAULT_MAXIMUM_RETRY_ATTEMPTS);
    this.backoffMs = options.retryBackoffMs ?? 200;
    this.log = options.log ?? (() => undefined);
    this.rejectedSeen = new Map(pipe.errors?.addedByType ?? []);
  }

  /** Reads everything available now, delivers it, flushes the target and commits. */
  public async drain(): Promise<PipeStats> {
    await this.withLease(async () => {
      await this.prepareBackfill();
      // A repaired shard resumes at its trim horizon: read it in the same drain.
      for (let pass = 0; pass < 2; pass++) {
        try {
          await this.readAvailable();
          await this.deliverGathered(true);
        } finally {
          this.noteRejections();
        }
        await this.flush();
        if (!(await this.repairGaps())) break;
      }
    });
    return { ...this.stats };
  }

  /**
   * The stream gaps found and repaired since the last call (one per shard and repair), so a sync can report them and
   * exit 4 even when a poll of `up` repaired them before it asked.
   *
   * @example
   * for (const gap of runner.takeGapReports()) console.error(gap.shardId, gap.repair);
   */
  public takeGapReports(): GapReport[] {
    const reports = this.gapReports;
    this.gapReports = [];
    return reports;
  }

  /**
   * Reads what is available and delivers it; flushes only when the target asks (size or age),
   * as a long-running pipe with a buffering target does. Returns false if another consumer holds the pipe.
   */
  public async poll(): Promise<boolean> {
    if (!this.pollLease()) return false;
    try {
      // A flush that keeps failing is retried first; until it succeeds nothing more is read.
      if (this.flushFailing) await this.flush();
      // Nothing of this runner is in flight here unless a flush is pending: a snapshot may commit positions.
      if (this.pending.size === 0 && this.readUpTo.size === 0) await this.prepareBackfill();
      try {
        await this.readAvailable();
        const windowMs = (this.pipe.batchWindowSeconds ?? 0) * 1000;
        await this.deliverGathered(Date.now() - this.gatheredSince >= windowMs || this.gaps.length > 0);
      } finally {
        this.noteRejections();
      }
      if (this.gaps.length > 0 || this.pipe.target.shouldFlush?.()) await this.flush();
      await this.repairGaps();
      return true;
    } finally {
      // Keep the lease only while data is gathered or buffered but not committed.
      if (this.pending.size === 0 && this.readUpTo.size === 0 && !this.flushFailing) {
        this.checkpoints.releaseLease(this.pipe.name, this.options.owner);
      }
    }
  }

  /**
   * Flushes the target (with retries; records of partitions that stay unwritable go to the error location) and
   * commits every delivered position. If even that fails (e.g. the disk is full), nothing is committed and everything
   * stays buffered for the next flush.
   */
  public async flush(): Promise<void> {
    try {
      await this.flushTarget();
    } catch (error) {
      this.flushFailing = true;
      throw error;
    } finally {
      this.noteRejections();
    }
    this.flushFailing = false;
    this.stats.flushes += 1;
    for (const [shard, position] of this.pending)
      this.checkpoints.commit(this.pipe.name, shard, position.seq, position.timeMs);
    this.pending.clear();
  }

  /**
   * Repairs the shards this read found behind the stream's trim horizon, once everything read before is committed.
   * Returns true when there were any.
   */
  private async repairGaps(): Promise<boolean> {
    if (this.gaps.length === 0) return false;
    const gaps = this.gaps;
    this.gaps = [];
    if (!this.pipe.backfill) {
      const shards = gaps.map((gap) => gap.shardId).join(', ');
      throw new Error(`pipe ${this.pipe.name}: shard ${shards}: the checkpoint is behind the stream's trim horizon`);
    }
    const reports = await this.pipe.backfill.repair(gaps, () => this.renewLease());
    this.stats.gaps = (this.stats.gaps ?? 0) + gaps.length;
    this.gapReports.push(...reports);
    return true;
  }

  /** The backfill's work before a read (see {@link PipeBackfill.prepare}); a repair it finished is reported. */
  private async prepareBackfill(): Promise<void> {
    const reports = await this.pipe.backfill?.prepare(() => this.renewLease());
    if (!reports || reports.length === 0) return;
    this.stats.gaps = (this.stats.gaps ?? 0) + reports.length;
    this.gapReports.push(...reports);
  }

  /** Renews the lease during long work (a snapshot); throws {@link PipeBusyError} when another consumer has it. */
  private renewLease(): void {
    if (!this.checkpoints.tryLease(this.pipe.name, this.options.owner, this.leaseMs))
      throw new PipeBusyError(this.pipe.name, this.checkpoints.leaseHolder(this.pipe.name));
  }

  /** Flushes and gives the lease back (shutdown). */
  public async close(): Promise<void> {
    try {
      try {
        await this.deliverGathered(true);
      } finally {
        this.noteRejections();
      }
      await this.flush();
    } finally {
      // Uncommitted positions are re-read by the next consumer, so it may take over at once.
      this.checkpoints.releaseLease(this.pipe.name, this.options.owner);
    }
  }

  /** Who holds this pipe's lease and until when, if anyone. */
  public leaseHolder(): ReturnType<CheckpointStore['leaseHolder']> {
    return this.checkpoints.leaseHolder(this.pipe.name);
  }

  private async readAvailable(): Promise<void> {
    try {
      await this.readAndDeliver();
    } catch (error) {
      // Another consumer took the pipe over: what this one read must never be committed. It re-reads from the
      // checkpoint if it gets the pipe back (at least once, never skipping).
      if (error instanceof PipeBusyError) {
        this.pending.clear();
        this.readUpTo.clear();
        this.gathered = [];
        this.gaps = [];
      }
      throw error;
    }
  }

  private async readAndDeliver(): Promise<void> {
    this.gaps = [];
    const reader = this.checkpoints.reader(this.pipe.name);
    // Records already read (gathered, or delivered but not committed) must not be read twice in one process.
    const positions = {
      get: (shard: string) => this.readUpTo.get(shard)?.seq ?? this.pending.get(shard)?.seq ?? reader.get(shard),
    };
    for await (const batch of this.pipe.source.read(positions, this.pipe.batchSize)) {
      // Renew the lease per batch: a long backlog must not outlive it and let a second consumer read the same records.
      this.renewLease();
      if (batch.gap) {
        this.log(
          `pipe ${this.pipe.name}: shard ${batch.gap.shardId}: position ${batch.gap.position ?? '(none)'} is behind ` +
            `the stream's trim horizon: records after it were trimmed before the pipe read them`,
        );
        this.gaps.push(batch.gap);
        continue;
      }
      this.stats.read += batch.records.length;
      const passed = this.pipe.filter ? batch.records.filter((r) => this.pipe.filter!.test(r)) : batch.records;
      this.stats.filteredOut += batch.records.length - passed.length;
      if (this.gathered.length === 0) this.gatheredSince = Date.now();
      for (const record of passed) {
        const seconds = record.dynamodb?.ApproximateCreationDateTime;
        this.gathered.push({
          record,
          shardId: batch.shardId,
          seq: record.dynamodb?.SequenceNumber ?? batch.lastSequenceNumber,
          timeMs: typeof seconds === 'number' ? seconds * 1000 : batch.lastRecordTimeMs,
        });
      }
      this.readUpTo.set(batch.shardId, { seq: batch.lastSequenceNumber, timeMs: batch.lastRecordTimeMs });
      await this.deliverGathered(false);
    }
  }

  /** Delivers full batches; with `all`, the partial one too. Advances the positions to commit. */
  private async deliverGathered(all: boolean): Promise<void> {
    while (this.gathered.length >= this.pipe.batchSize || (all && this.gathered.length > 0)) {
      await this.deliverPiece(this.gathered.slice(0, this.pipe.batchSize), true);
      this.gatheredSince = Date.now();
    }
    if (this.gathered.length === 0) {
      // Everything read was delivered, rejected or filtered out: the read positions are safe to commit.
      for (const [shard, position] of this.readUpTo) this.pending.set(shard, position);
      this.readUpTo.clear();
    }
  }

  /**
   * Delivers records (the head of `gathered`), retrying with backoff; if they keep failing, splits them in two and
   * delivers each half once (Pipes' AUTOMATIC_BISECT), down to the single record at fault, which is retried on its own
   * and then rejected. Each piece is marked done as soon as it is delivered or rejected, in order, so a failure part
   * way never delivers a piece twice.
   */
  private async deliverPiece(piece: GatheredRecord[], retry: boolean): Promise<void> {
    const attempts = (retry || piece.length === 1 ? this.retries : 0) + 1;
    const failed = await this.withRetries(attempts, async () => {
      await this.process(piece.map((g) => g.record));
      this.done(piece);
    });
    if (!failed) return;
    if (piece.length > 1) {
      const half = Math.ceil(piece.length / 2);
      await this.deliverPiece(piece.slice(0, half), false);
      await this.deliverPiece(piece.slice(half), false);
      return;
    }
    await this.reject(piece[0]!, failed.failure, attempts);
    this.done(piece);
  }

  /** Sends one record that keeps failing to the error location (or fails the pipe when it has none). */
  private async reject(gathered: GatheredRecord, failure: unknown, attempts: number): Promise<void> {
    const errors = this.pipe.errors;
    if (!errors) throw failure;
    const type = failureType(failure);
    await errors.add({
      reason: `delivery failed ${attempts} times, after retries and bisection: ${type}`,
      errorType: 'DeliveryFailed',
      eventId: gathered.record.eventID,
      record: gathered.record,
    });
    this.log(
      `pipe ${this.pipe.name}: record ${gathered.record.eventID ?? '(no event id)'} (shard ${gathered.shardId}, ` +
        `seq ${gathered.seq}) rejected after ${attempts} attempts: ${type}; see ${errors.location}`,
    );
  }

  /** Marks the head of `gathered` as delivered (or rejected): its positions may be committed after the next flush. */
  private done(piece: GatheredRecord[]): void {
    if (this.gathered[0] !== piece[0]) throw new Error('pipe runner: pieces must be delivered in order');
    this.gathered.splice(0, piece.length);
    for (const { shardId, seq, timeMs } of piece) this.pending.set(shardId, { seq, timeMs });
  }

  private async process(records: StreamRecord[]): Promise<void> {
    const items = this.pipe.enrichment ? await this.pipe.enrichment(records) : records;
    // Counted once taken (not per failed attempt), so retries and bisection do not inflate it.
    if (items.length > 0) await this.pipe.target.deliver(items);
    this.stats.batches += 1;
    this.stats.delivered += items.length; // enrichment returned [] : the batch is dropped
  }

  private async flushTarget(): Promise<void> {
    const attempts = this.retries + 1;
    const failed = await this.withRetries(attempts, () => this.flushOnce());
    if (!failed) return;
    const { failure } = failed;
    const errors = this.pipe.errors;
    if (errors && this.pipe.target.divertUnwritable) {
      // One partition that can never be written (a path the file system refuses) must not hold every other record.
      const moved = await this.pipe.target.divertUnwritable();
      if (moved > 0) {
        this.log(
          `pipe ${this.pipe.name}: ${moved} buffered record${moved === 1 ? '' : 's'} could not be written after ` +
            `${attempts} attempts (${failureType(failure)}); moved to ${errors.location}`,
        );
        await this.flushOnce();
        return;
      }
    }
    throw failure;
  }

  private async flushOnce(): Promise<void> {
    await this.pipe.target.flush();
    await this.pipe.errors?.flush();
  }

  /** Counts and reports entries the pipe's steps added to the error location since the last call. */
  private noteRejections(): void {
    const errors = this.pipe.errors;
    if (!errors) return;
    const parts: Array<[type: string, count: number]> = [];
    for (const [type, count] of errors.addedByType) {
      const fresh = count - (this.rejectedSeen.get(type) ?? 0);
      if (fresh <= 0) continue;
      parts.push([type, fresh]);
      this.rejectedSeen.set(type, count);
    }
    const total = parts.reduce((sum, [, count]) => sum + count, 0);
    if (total === 0) return;
    this.stats.rejected += total;
    const types = parts.length === 1 ? parts[0]![0] : parts.map(([type, count]) => `${count} ${type}`).join(', ');
    this.log(
      `pipe ${this.pipe.name}: ${total} record${total === 1 ? '' : 's'} rejected (${types}), see ${errors.location}`,
    );
  }

  /** Runs `work` up to `attempts` times, with backoff between them; undefined once it succeeds, else the last error. */
  private async withRetries(attempts: number, work: () => Promise<void>): Promise<{ failure: unknown } | undefined> {
    let failure: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (attempt > 1) await this.backoff(attempt - 1);
      try {
        await work();
        return undefined;
      } catch (error) {
        failure = error;
      }
    }
    return { failure };
  }

  private async backoff(retry: number): Promise<void> {
    const ms = Math.min(this.backoffMs * 2 ** (retry - 1), MAX_BACKOFF_MS);
    if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
  }

  /** Takes the lease for a poll; when another consumer holds it, says who (once per holder). */
  private pollLease(): boolean {
    if (this.checkpoints.tryLease(this.pipe.name, this.options.owner, this.leaseMs)) {
      this.waitingFor = undefined;
      return true;
    }
    const holder = this.checkpoints.leaseHolder(this.pipe.name);
    if (holder && holder.owner !== this.waitingFor) {
      this.waitingFor = holder.owner;
      this.log(
        `pipe ${this.pipe.name}: waiting for ${describeOwner(holder.owner)} (lease until ${new Date(holder.until).toISOString()})`,
      );
    }
    return false;
  }

  private async withLease<T>(work: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.leaseWaitMs;
    let announced: string | undefined;
    while (!this.checkpoints.tryLease(this.pipe.name, this.options.owner, this.leaseMs)) {
      const holder = this.checkpoints.leaseHolder(this.pipe.name);
      if (Date.now() > deadline) throw new PipeBusyError(this.pipe.name, holder);
      if (holder && holder.owner !== announced) {
        announced = holder.owner;
        const waitS = Math.ceil(Math.max(0, Math.min(deadline, holder.until) - Date.now()) / 1000);
        this.log(
          `pipe ${this.pipe.name}: waiting for ${describeOwner(holder.owner)} ` +
            `(lease until ${new Date(holder.until).toISOString()}, up to ${waitS} s)`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    try {
      return await work();
    } finally {
      this.checkpoints.releaseLease(this.pipe.name, this.options.owner);
    }
  }
}
