import type { ExportJobRef } from './types.js';

/**
 * Port: remembers which export job a run started, so `startExport` is idempotent on `runId`
 * (a retried start-export message finds the job instead of starting a second one).
 * {@link RunLedger} implements it over the ledger table (`pk:'JOB', sk:<runId>`).
 *
 * @example
 * const known = await registry.findJob('run-1');
 */
export interface ExportJobRegistry {
  findJob(runId: string): Promise<ExportJobRef | undefined>;
  recordJob(runId: string, job: ExportJobRef): Promise<void>;
}

/**
 * An in-memory registry (tests, one-shot scripts).
 *
 * @example
 * const registry = new InMemoryJobRegistry();
 */
export class InMemoryJobRegistry implements ExportJobRegistry {
  private readonly jobs = new Map<string, ExportJobRef>();
  public async findJob(runId: string): Promise<ExportJobRef | undefined> {
    return this.jobs.get(runId);
  }
  public async recordJob(runId: string, job: ExportJobRef): Promise<void> {
    this.jobs.set(runId, job);
  }
}
