import type { Database } from 'better-sqlite3';
import type { Clock } from '../../ports/clock.js';
import type { ObjectStore } from '../../ports/object-store.js';
import { ConflictError, NotFoundError } from './errors.js';
import type { ExportJobStore } from './export-job-store.js';
import { ExportInterruptedError, writeExportFiles } from './export-writer.js';
import type { ResourceStore } from './resource-store.js';
import type { ExportFaults, ExportJob } from './types.js';

/** What the runner needs. */
export interface ExportRunnerOptions {
  store: ResourceStore;
  jobs: ExportJobStore;
  readDb: Database;
  exportStore: (bucket: string) => ObjectStore;
  datastoreId: string;
  baseUrl: () => string;
  maxResourcesPerFile: number;
  faults: ExportFaults;
  clock: Clock;
}

const FINISHED = new Set(['COMPLETED', 'COMPLETED_WITH_ERRORS', 'FAILED', 'CANCEL_COMPLETED', 'CANCEL_FAILED']);

/**
 * Runs export jobs in the background, one at a time, oldest first; later jobs wait
 * as SUBMITTED. Jobs live in SQLite: a job interrupted by a shutdown is resumed on
 * the next start with the same cut, so its output and transactionTime do not change.
 *
 * @example
 * const runner = new ExportRunner(options);
 * runner.recover();
 * runner.submit(job);
 * await runner.whenIdle();
 */
export class ExportRunner {
  private running: Promise<void> | undefined;
  private stopping = false;
  private readonly cancelRequested = new Set<string>();

  public constructor(private readonly options: ExportRunnerOptions) {}

  /** Puts jobs left mid-way by a previous process back in the queue, and finishes pending cancellations. */
  public recover(): void {
    const { jobs } = this.options;
    for (const job of jobs.withStatus(['IN_PROGRESS']))
      jobs.save({ ...job, status: 'SUBMITTED', progress: 'resumed after restart' });
    for (const job of jobs.withStatus(['CANCEL_IN_PROGRESS']))
      jobs.save({ ...job, status: 'CANCEL_COMPLETED', endTime: this.now() });
    this.kick();
  }

  /** Queues a job (or returns the earlier job with the same client token) and starts the runner. */
  public submit(job: ExportJob): ExportJob {
    const stored = this.options.jobs.insert(job);
    this.kick();
    return stored;
  }

  /** Requests cancellation. Finished jobs cannot be cancelled (409). */
  public cancel(jobId: string): ExportJob {
    const { jobs } = this.options;
    const job = jobs.get(jobId);
    if (!job) throw new NotFoundError(`export job ${jobId.slice(0, 64)} does not exist`);
    if (job.status.startsWith('CANCEL_')) return job;
    if (FINISHED.has(job.status)) throw new ConflictError(`export job ${jobId} is already ${job.status}`);
    this.cancelRequested.add(jobId);
    const cancelled: ExportJob = { ...job, status: 'CANCEL_SUBMITTED' };
    jobs.save(cancelled);
    this.kick();
    return cancelled;
  }

  /** Resolves when no job is running or waiting. */
  public async whenIdle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Stops after the current job reaches a safe point; an interrupted job resumes on the next start. */
  public async stop(): Promise<void> {
    this.stopping = true;
    await this.whenIdle();
  }

  private kick(): void {
    if (this.running || this.stopping) return;
    this.running = this.loop().finally(() => {
      this.running = undefined;
    });
  }

  private async loop(): Promise<void> {
    // Let the caller answer its request before the job starts.
    await new Promise((resolve) => setImmediate(resolve));
    for (let job = this.options.jobs.nextRunnable(); job && !this.stopping; job = this.options.jobs.nextRunnable()) {
      await this.run(job);
    }
  }

  private now(): string {
    return this.options.clock.now().toISOString();
  }

  private async run(queued: ExportJob): Promise<void> {
    const { jobs, faults } = this.options;
    if (queued.status === 'CANCEL_SUBMITTED') {
      jobs.save({ ...queued, status: 'CANCEL_IN_PROGRESS' });
      jobs.save({ ...queued, status: 'CANCEL_COMPLETED', endTime: this.now() });
      this.cancelRequested.delete(queued.jobId);
      return;
    }
    let job: ExportJob = { ...queued, status: 'IN_PROGRESS', progress: queued.progress ?? 'started' };
    jobs.save(job);
    const save = (next: ExportJob): void => {
      job = next;
      if (!this.cancelRequested.has(job.jobId)) jobs.save(job);
    };
    try {
      if (faults.delayBeforeStartMs) await new Promise((resolve) => setTimeout(resolve, faults.delayBeforeStartMs));
      this.checkInterrupted(job.jobId);
      if (faults.failNextExport) {
        const message =
          typeof faults.failNextExport === 'string'
            ? faults.failNextExport
            : 'injected export failure (failNextExport)';
        faults.failNextExport = false;
        throw new Error(message);
      }
      if (job.cutSeq === undefined) save({ ...job, ...this.options.store.takeCut() });
      const withCut = job as ExportJob & { cutSeq: number };
      const result = await writeExportFiles({
        readDb: this.options.readDb,
        store: this.options.exportStore(job.bucket),
        job: withCut,
        datastoreId: this.options.datastoreId,
        baseUrl: this.options.baseUrl(),
        maxResourcesPerFile: this.options.maxResourcesPerFile,
        faults,
        checkInterrupted: () => this.checkInterrupted(withCut.jobId),
        onProgress: (files, resources) => save({ ...job, progress: `${files} files, ${resources} resources written` }),
      });
      const status = result.error.length > 0 ? 'COMPLETED_WITH_ERRORS' : 'COMPLETED';
      save({
        ...job,
        ...result,
        status,
        endTime: this.now(),
        progress: 'done',
        ...(status === 'COMPLETED_WITH_ERRORS'
          ? { message: 'some resource types could not be exported; see error[]' }
          : {}),
      });
    } catch (error) {
      if (error instanceof ExportInterruptedError) {
        if (this.cancelRequested.has(job.jobId)) {
          this.cancelRequested.delete(job.jobId);
          jobs.save({ ...job, status: 'CANCEL_IN_PROGRESS' });
          jobs.save({ ...job, status: 'CANCEL_COMPLETED', endTime: this.now() });
        }
        // Otherwise the server is stopping: the job stays IN_PROGRESS and resumes on restart.
        return;
      }
      const message = error instanceof Error ? error.message : String(error);
      this.cancelRequested.delete(job.jobId);
      jobs.save({ ...job, status: 'FAILED', endTime: this.now(), message });
    }
  }

  private checkInterrupted(jobId: string): void {
    if (this.stopping || this.cancelRequested.has(jobId))
      throw new ExportInterruptedError(`export job ${jobId} interrupted`);
  }
}
