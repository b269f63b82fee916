import Database from 'better-sqlite3';
import { ownerLiveness, type OwnerLiveness } from '../local/process-owner.js';
import type { CheckpointReader, LeaseHolder } from './types.js';

/** A committed shard position of a pipe. `seq` may also be a marker (`at:<seq>`, `trim-horizon`; see `iteratorFor`). */
export interface CommittedPosition {
  shard: string;
  seq: string;
  /** Stream time (epoch ms) of the last record behind the position, when known. */
  sourceTimeMs?: number;
}

/** A snapshot or repair export a pipe started and has not finished landing. */
export interface PendingBackfill {
  kind: 'snapshot' | 'repair';
  exportArn: string;
  /** The positions the pipe resumes from once the export has landed. */
  positions: CommittedPosition[];
}

/** Options of {@link CheckpointStore}. */
export interface CheckpointStoreOptions {
  /** Tells whether a lease owner's process still runs. Default {@link ownerLiveness} (same host, signal 0). */
  liveness?: (owner: string) => OwnerLiveness;
}

/**
 * Durable pipe positions and consumer leases in SQLite (the state directory's `pipes.sqlite`).
 * A pipe commits a shard position only after its target has flushed, so a crash replays
 * (at least once) and never skips.
 *
 * @example
 * const store = new CheckpointStore('.tributary/pipes.sqlite');
 * store.commit('visits', 'shardId-1', '000000000000000000042');
 */
export class CheckpointStore {
  private readonly db: Database.Database;
  private readonly liveness: (owner: string) => OwnerLiveness;

  public constructor(file: string, options: CheckpointStoreOptions = {}) {
    this.liveness = options.liveness ?? ownerLiveness;
    this.db = new Database(file, { timeout: 5000 });
    // Two processes can open a brand-new file at once (two `sync` racing for the state directory, before either
    // holds its lock). Switching a fresh database to WAL upgrades a read lock, and SQLite answers that deadlock
    // case with SQLITE_BUSY at once instead of waiting: retry the setup briefly.
    retryWhileBusy(() => {
      this.db.pragma('journal_mode = WAL');
      this.db.exec(`
        CREATE TABLE IF NOT EXISTS checkpoints (
          pipe TEXT NOT NULL, shard TEXT NOT NULL, seq TEXT NOT NULL, updated_at TEXT NOT NULL,
          PRIMARY KEY (pipe, shard));
        CREATE TABLE IF NOT EXISTS leases (
          pipe TEXT PRIMARY KEY, owner TEXT NOT NULL, lease_until INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS backfills (
          pipe TEXT PRIMARY KEY, kind TEXT NOT NULL, export_arn TEXT NOT NULL, positions TEXT NOT NULL,
          created_at TEXT NOT NULL);
      `);
      // The source time of the last record behind each checkpoint (epoch ms): where a repair export starts when the
      // stream trimmed records the pipe had not read. Older state directories lack the column.
      const columns = this.db.prepare<[], { name: string }>('PRAGMA table_info(checkpoints)').all();
      if (!columns.some((column) => column.name === 'source_time_ms'))
        this.db.exec('ALTER TABLE checkpoints ADD COLUMN source_time_ms INTEGER');
    });
  }

  /** Positions of one pipe. */
  public reader(pipe: string): CheckpointReader {
    const statement = this.db.prepare<[string, string], { seq: string }>(
      'SELECT seq FROM checkpoints WHERE pipe = ? AND shard = ?',
    );
    return { get: (shard) => statement.get(pipe, shard)?.seq };
  }

  /**
   * Records that everything up to `seq` in `shard` is durable. `sourceTimeMs` is the stream time of the last record
   * behind it (kept from the previous commit when unknown).
   */
  public commit(pipe: string, shard: string, seq: string, sourceTimeMs?: number): void {
    this.db
      .prepare(
        `INSERT INTO checkpoints (pipe, shard, seq, updated_at, source_time_ms) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (pipe, shard) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at,
           source_time_ms = coalesce(excluded.source_time_ms, checkpoints.source_time_ms)`,
      )
      .run(pipe, shard, seq, new Date().toISOString(), sourceTimeMs ?? null);
  }

  /**
   * Every committed position of a pipe, with the source time of the last record behind it when known.
   *
   * @example
   * store.positions('visits-pipe') // [{ shard: 'shardId-1', seq: '1000…42', sourceTimeMs: 1718000000000 }]
   */
  public positions(pipe: string): CommittedPosition[] {
    return this.db
      .prepare<[string], { shard: string; seq: string; source_time_ms: number | null }>(
        'SELECT shard, seq, source_time_ms FROM checkpoints WHERE pipe = ? ORDER BY shard',
      )
      .all(pipe)
      .map((row) => ({
        shard: row.shard,
        seq: row.seq,
        ...(row.source_time_ms !== null ? { sourceTimeMs: Number(row.source_time_ms) } : {}),
      }));
  }

  /**
   * The snapshot or repair a pipe started and has not finished landing, if any (see {@link savePendingBackfill}).
   *
   * @example
   * const pending = store.pendingBackfill('visits-pipe'); // { kind: 'snapshot', exportArn, positions }
   */
  public pendingBackfill(pipe: string): PendingBackfill | undefined {
    const row = this.db
      .prepare<[string], { kind: string; export_arn: string; positions: string }>(
        'SELECT kind, export_arn, positions FROM backfills WHERE pipe = ?',
      )
      .get(pipe);
    if (!row) return undefined;
    return {
      kind: row.kind === 'repair' ? 'repair' : 'snapshot',
      exportArn: row.export_arn,
      positions: JSON.parse(row.positions) as CommittedPosition[],
    };
  }

  /**
   * Persists a started snapshot or repair before it lands: its export and the positions the pipe resumes from once it
   * has landed. A restart after a crash lands the same export again (same deterministic files) instead of starting
   * another one.
   *
   * @example
   * store.savePendingBackfill('visits-pipe', { kind: 'snapshot', exportArn, positions });
   */
  public savePendingBackfill(pipe: string, pending: PendingBackfill): void {
    this.db
      .prepare(
        `INSERT INTO backfills (pipe, kind, export_arn, positions, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (pipe) DO UPDATE SET kind = excluded.kind, export_arn = excluded.export_arn,
           positions = excluded.positions, created_at = excluded.created_at`,
      )
      .run(pipe, pending.kind, pending.exportArn, JSON.stringify(pending.positions), new Date().toISOString());
  }

  /**
   * Ends a landed snapshot or repair in one transaction: commits the positions it recorded and forgets it.
   *
   * @example
   * store.finishBackfill('visits-pipe');
   */
  public finishBackfill(pipe: string): void {
    this.db.transaction(() => {
      const pending = this.pendingBackfill(pipe);
      for (const position of pending?.positions ?? [])
        this.commit(pipe, position.shard, position.seq, position.sourceTimeMs);
      this.db.prepare('DELETE FROM backfills WHERE pipe = ?').run(pipe);
    })();
  }

  /**
   * Forgets a pending snapshot or repair without committing its positions: its export will never complete, so the
   * next poll decides again (a snapshot is taken again; a repair's gap is found again).
   *
   * @example
   * store.abandonBackfill('visits-pipe');
   */
  public abandonBackfill(pipe: string): void {
    this.db.prepare('DELETE FROM backfills WHERE pipe = ?').run(pipe);
  }

  /**
   * Takes the pipe's consumer lease for `owner` if it is free, expired or already theirs, or held by a process on this
   * host that is gone (`kill -9` leaves its lease behind: waiting for it to expire would stall the pipe for no reason),
   * so that `up` and `sync` on one state directory never read the same stream at once.
   *
   * @example
   * if (!store.tryLease('visits-pipe', currentOwner('sync'), 60_000)) console.log(store.leaseHolder('visits-pipe'));
   */
  public tryLease(pipe: string, owner: string, leaseMs: number, now = Date.now()): boolean {
    const result = this.db
      .prepare(
        `INSERT INTO leases (pipe, owner, lease_until) VALUES (@pipe, @owner, @until)
         ON CONFLICT (pipe) DO UPDATE SET owner = @owner, lease_until = @until
         WHERE leases.owner = @owner OR leases.lease_until < @now`,
      )
      .run({ pipe, owner, until: now + leaseMs, now });
    if (result.changes === 1) return true;
    const holder = this.leaseHolder(pipe);
    if (!holder || this.liveness(holder.owner) !== 'dead') return false;
    // Compare-and-set on the dead owner: of two consumers taking over at once, one wins.
    const takeover = this.db
      .prepare('UPDATE leases SET owner = @owner, lease_until = @until WHERE pipe = @pipe AND owner = @dead')
      .run({ pipe, owner, until: now + leaseMs, dead: holder.owner });
    return takeover.changes === 1;
  }

  /**
   * Who holds a pipe's lease and until when (expired leases included), or `undefined` when nobody does.
   *
   * @example
   * store.leaseHolder('visits-pipe') // { owner: 'up:host:4242', until: 1718000000000 }
   */
  public leaseHolder(pipe: string): LeaseHolder | undefined {
    const row = this.db
      .prepare<[string], { owner: string; lease_until: number }>('SELECT owner, lease_until FROM leases WHERE pipe = ?')
      .get(pipe);
    return row ? { owner: row.owner, until: row.lease_until } : undefined;
  }

  /** Gives the lease back. */
  public releaseLease(pipe: string, owner: string): void {
    this.db.prepare('DELETE FROM leases WHERE pipe = ? AND owner = ?').run(pipe, owner);
  }

  public close(): void {
    this.db.close();
  }
}

/** Runs synchronous SQLite setup, retrying for up to ~5 s while another connection holds the database. */
function retryWhileBusy(setup: () => void): void {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let attempt = 1; ; attempt++) {
    try {
      setup();
      return;
    } catch (error) {
      const code = (error as { code?: string }).code ?? '';
      if (!code.startsWith('SQLITE_BUSY') || attempt >= 100) throw error;
      Atomics.wait(pause, 0, 0, 50); // a synchronous sleep: the constructor cannot await
    }
  }
}
