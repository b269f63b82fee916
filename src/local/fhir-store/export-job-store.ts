import type { Database } from 'better-sqlite3';
import type { ExportJob, ExportJobStatus } from './types.js';

/** Statuses of a job that has not finished. */
export const ACTIVE_EXPORT_STATUSES: readonly ExportJobStatus[] = [
  'SUBMITTED',
  'QUEUED',
  'IN_PROGRESS',
  'CANCEL_SUBMITTED',
  'CANCEL_IN_PROGRESS',
];

/**
 * Persists export jobs in the datastore's SQLite file (table `export_jobs`).
 *
 * @example
 * const jobs = new ExportJobStore(db);
 * jobs.insert(job);
 * jobs.get(job.jobId)?.status;
 */
export class ExportJobStore {
  public constructor(private readonly db: Database) {}

  /** Stores a new job; returns the existing job instead when its client token was used before. */
  public insert(job: ExportJob): ExportJob {
    if (job.clientToken !== undefined) {
      const existing = this.byClientToken(job.clientToken);
      if (existing) return existing;
    }
    const seq = (
      this.db.prepare('SELECT COALESCE(MAX(submit_seq), 0) + 1 AS n FROM export_jobs').get() as { n: number }
    ).n;
    this.db
      .prepare('INSERT INTO export_jobs (job_id, submit_seq, status, client_token, job) VALUES (?, ?, ?, ?, ?)')
      .run(job.jobId, seq, job.status, job.clientToken ?? null, JSON.stringify(job));
    return job;
  }

  /** Saves a changed job. */
  public save(job: ExportJob): void {
    this.db
      .prepare('UPDATE export_jobs SET status = ?, job = ? WHERE job_id = ?')
      .run(job.status, JSON.stringify(job), job.jobId);
  }

  public get(jobId: string): ExportJob | undefined {
    const row = this.db.prepare('SELECT job FROM export_jobs WHERE job_id = ?').get(jobId) as
      { job: string } | undefined;
    return row ? (JSON.parse(row.job) as ExportJob) : undefined;
  }

  public byClientToken(token: string): ExportJob | undefined {
    const row = this.db.prepare('SELECT job FROM export_jobs WHERE client_token = ?').get(token) as
      { job: string } | undefined;
    return row ? (JSON.parse(row.job) as ExportJob) : undefined;
  }

  /** All jobs, newest first. */
  public list(): ExportJob[] {
    return (this.db.prepare('SELECT job FROM export_jobs ORDER BY submit_seq DESC').all() as { job: string }[]).map(
      (row) => JSON.parse(row.job) as ExportJob,
    );
  }

  /** The oldest job waiting to run (or waiting for its cancellation to be processed). */
  public nextRunnable(): ExportJob | undefined {
    const row = this.db
      .prepare(
        "SELECT job FROM export_jobs WHERE status IN ('SUBMITTED', 'QUEUED', 'CANCEL_SUBMITTED') ORDER BY submit_seq LIMIT 1",
      )
      .get() as { job: string } | undefined;
    return row ? (JSON.parse(row.job) as ExportJob) : undefined;
  }

  /** Jobs in any of `statuses`. */
  public withStatus(statuses: readonly ExportJobStatus[]): ExportJob[] {
    return (
      this.db
        .prepare(
          `SELECT job FROM export_jobs WHERE status IN (${statuses.map(() => '?').join(', ')}) ORDER BY submit_seq`,
        )
        .all(...statuses) as {
        job: string;
      }[]
    ).map((row) => JSON.parse(row.job) as ExportJob);
  }
}
