import Database from 'better-sqlite3';
import type { CheckpointReader } from './types.js';

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

  public constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS checkpoints (
        pipe TEXT NOT NULL, shard TEXT NOT NULL, seq TEXT NOT NULL, updated_at TEXT NOT NULL,
        PRIMARY KEY (pipe, shard));
      CREATE TABLE IF NOT EXISTS leases (
        pipe TEXT PRIMARY KEY, owner TEXT NOT NULL, lease_until INTEGER NOT NULL);
    `);
  }

  /** Positions of one pipe. */
  public reader(pipe: string): CheckpointReader {
    const statement = this.db.prepare<[string, string], { seq: string }>(
      'SELECT seq FROM checkpoints WHERE pipe = ? AND shard = ?',
    );
    return { get: (shard) => statement.get(pipe, shard)?.seq };
  }

  /** Records that everything up to `seq` in `shard` is durable. */
  public commit(pipe: string, shard: string, seq: string): void {
    this.db
      .prepare(
        `INSERT INTO checkpoints (pipe, shard, seq, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (pipe, shard) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at`,
      )
      .run(pipe, shard, seq, new Date().toISOString());
  }

  /**
   * Takes the pipe's consumer lease for `owner` if it is free, expired or already theirs,
   * so that `up` and `sync` on one state directory never read the same stream at once.
   */
  public tryLease(pipe: string, owner: string, leaseMs: number, now = Date.now()): boolean {
    const result = this.db
      .prepare(
        `INSERT INTO leases (pipe, owner, lease_until) VALUES (@pipe, @owner, @until)
         ON CONFLICT (pipe) DO UPDATE SET owner = @owner, lease_until = @until
         WHERE leases.owner = @owner OR leases.lease_until < @now`,
      )
      .run({ pipe, owner, until: now + leaseMs, now });
    return result.changes === 1;
  }

  /** Gives the lease back. */
  public releaseLease(pipe: string, owner: string): void {
    this.db.prepare('DELETE FROM leases WHERE pipe = ? AND owner = ?').run(pipe, owner);
  }

  public close(): void {
    this.db.close();
  }
}
