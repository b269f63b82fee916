import { systemClock, type Clock } from '../ports/clock.js';
import { LedgerError } from './errors.js';
import type { ExecutionStatusPort } from './execution-status.js';
import type { ExportJobRegistry } from './job-registry.js';
import type { LedgerItem, LedgerStore } from './ledger-store.js';
import type {
  ExportErrors,
  ExportJobRef,
  LockRecord,
  ProcessFileResult,
  RunCounts,
  RunRecord,
  WatermarkRecord,
} from './types.js';

const LOCK_KEY = { pk: 'LOCK', sk: 'export' } as const;
const WATERMARK_KEY = { pk: 'WATERMARK', sk: 'export' } as const;
const RUN_PK = 'RUN';
const JOB_PK = 'JOB';

/** Options of {@link RunLedger}. */
export interface RunLedgerOptions {
  store: LedgerStore;
  /** Asks whether a lock owner still runs (SFN DescribeExecution, or the local executor). */
  executions: ExecutionStatusPort;
  clock?: Clock;
  /** Lock lease; after it the lock is free whatever the owner says. Default 25 h (longer than the 24 h execution timeout). */
  leaseSeconds?: number;
}

/** Input of {@link RunLedger.acquire}. */
export interface AcquireInput {
  executionArn: string;
  executionName: string;
  /** Execution start time (ISO). */
  startTime?: string;
}

/** Answer of {@link RunLedger.acquire}. */
export interface AcquireResult {
  acquired: boolean;
  runId: string;
  since: string | null;
  reason?: string;
}

/** Input of {@link RunLedger.complete}. */
export interface CompleteInput {
  runId: string;
  executionArn: string;
  transactionTime: string;
  jobId: string;
  results: readonly ProcessFileResult[];
  exportErrors?: ExportErrors | null;
}

/** Input of {@link RunLedger.fail}. */
export interface FailInput {
  runId: string;
  executionArn: string;
  error?: string | null;
  cause?: string | null;
}

/**
 * The export run ledger: one lock, one watermark, one record per run (see the workflow contract).
 * Needs no seeding (an absent watermark means "full export"); the lock is released on complete/fail by its owner,
 * taken over when its owner's execution is no longer RUNNING, and expires after its lease, so it never sticks.
 * Also the {@link ExportJobRegistry} that makes `startExport` idempotent.
 *
 * @example
 * const ledger = new RunLedger({ store: new DynamoDbLedgerStore(client, table), executions: new SfnExecutionStatus(sfn) });
 * const { acquired, runId, since } = await ledger.acquire({ executionArn, executionName });
 */
export class RunLedger implements ExportJobRegistry {
  private readonly store: LedgerStore;
  private readonly clock: Clock;
  private readonly leaseSeconds: number;

  public constructor(private readonly options: RunLedgerOptions) {
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    this.leaseSeconds = options.leaseSeconds ?? 25 * 3600;
  }

  /** Takes the lock for an execution (re-entrant for the same execution) and records the run as RUNNING. */
  public async acquire(input: AcquireInput): Promise<AcquireResult> {
    const runId = input.executionName;
    const now = this.clock.now();
    const nowSeconds = Math.floor(now.getTime() / 1000);
    const current = (await this.store.get(LOCK_KEY.pk, LOCK_KEY.sk)) as (LedgerItem & LockRecord) | undefined;

    if (current && current.owner === input.executionArn) {
      const run = await this.getRun(runId);
      return { acquired: true, runId, since: run ? run.since : await this.since() };
    }

    let condition: Parameters<LedgerStore['put']>[1];
    if (!current) {
      condition = [{ kind: 'absent' }];
    } else {
      if (current.leaseUntil >= nowSeconds) {
        const ownerState = await this.options.executions.statusOf(current.owner);
        if (ownerState === 'RUNNING' || ownerState === 'PENDING_REDRIVE') {
          return this.skip(input, `export run ${current.runId} is already running`);
        }
        await this.markOrphaned(current, `owner execution ended with status ${ownerState}`);
      } else {
        await this.markOrphaned(current, 'lock lease expired');
      }
      condition = [{ kind: 'equals', attribute: 'owner', value: current.owner }];
    }

    const lock: LedgerItem & LockRecord = {
      ...LOCK_KEY,
      owner: input.executionArn,
      runId,
      leaseUntil: nowSeconds + this.leaseSeconds,
      acquiredAt: now.toISOString(),
    };
    if (!(await this.store.put(lock, condition))) {
      return this.skip(input, 'another run took the lock first');
    }
    const since = await this.since();
    const run: RunRecord = {
      runId,
      status: 'RUNNING',
      since,
      startedAt: input.startTime ?? now.toISOString(),
      executionArn: input.executionArn,
    };
    await this.store.put(runItem(run));
    return { acquired: true, runId, since };
  }

  /** Records success: watermark = the manifest's transactionTime (only ever moves forward), counts, lock released. */
  public async complete(input: CompleteInput): Promise<{ status: 'COMPLETED'; counts: RunCounts }> {
    if (Number.isNaN(Date.parse(input.transactionTime))) {
      throw new LedgerError('Ledger.InvalidTransactionTime', `run ${input.runId}: transactionTime is not a date`);
    }
    const run = await this.getRun(input.runId);
    if (!run) throw new LedgerError('Ledger.RunNotFound', `run ${input.runId} not found`);
    if (run.status === 'COMPLETED' && run.counts) {
      await this.releaseLock(input.executionArn);
      return { status: 'COMPLETED', counts: run.counts };
    }
    const counts = sumCounts(input.results);
    await this.advanceWatermark(input.transactionTime, input.runId);
    const completed: RunRecord = {
      ...run,
      status: 'COMPLETED',
      endedAt: this.clock.now().toISOString(),
      jobId: input.jobId,
      transactionTime: input.transactionTime,
      counts,
      ...(input.exportErrors && input.exportErrors.length > 0 ? { exportErrors: input.exportErrors } : {}),
    };
    delete completed.error;
    delete completed.cause;
    await this.store.put(runItem(completed));
    await this.releaseLock(input.executionArn);
    return { status: 'COMPLETED', counts };
  }

  /** Records failure (first error wins), leaves the watermark alone, releases the lock if this execution owns it. */
  public async fail(input: FailInput): Promise<{ status: 'FAILED' }> {
    const run = await this.getRun(input.runId);
    if (run && run.status === 'RUNNING' && run.executionArn === input.executionArn) {
      const failed: RunRecord = {
        ...run,
        status: 'FAILED',
        endedAt: this.clock.now().toISOString(),
        error: input.error ?? 'Export.RunFailed',
        cause: input.cause ?? '',
      };
      await this.store.put(runItem(failed));
    }
    await this.releaseLock(input.executionArn);
    return { status: 'FAILED' };
  }

  /** Runs, newest first. */
  public async listRuns(limit?: number): Promise<RunRecord[]> {
    const runs = (await this.store.query(RUN_PK)).map(toRun);
    runs.sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : a.runId < b.runId ? 1 : -1));
    return limit === undefined ? runs : runs.slice(0, limit);
  }

  public async getRun(runId: string): Promise<RunRecord | undefined> {
    const item = await this.store.get(RUN_PK, runId);
    return item ? toRun(item) : undefined;
  }

  public async watermark(): Promise<WatermarkRecord | undefined> {
    const item = await this.store.get(WATERMARK_KEY.pk, WATERMARK_KEY.sk);
    return item ? { transactionTime: String(item.transactionTime), runId: String(item.runId) } : undefined;
  }

  public async lock(): Promise<LockRecord | undefined> {
    const item = await this.store.get(LOCK_KEY.pk, LOCK_KEY.sk);
    if (!item) return undefined;
    return {
      owner: String(item.owner),
      runId: String(item.runId),
      leaseUntil: Number(item.leaseUntil),
      acquiredAt: String(item.acquiredAt),
    };
  }

  public async findJob(runId: string): Promise<ExportJobRef | undefined> {
    const item = await this.store.get(JOB_PK, runId);
    if (!item) return undefined;
    return {
      jobId: String(item.jobId),
      runId,
      ...(typeof item.statusUrl === 'string' ? { statusUrl: item.statusUrl } : {}),
    };
  }

  public async recordJob(runId: string, job: ExportJobRef): Promise<void> {
    await this.store.put({
      pk: JOB_PK,
      sk: runId,
      jobId: job.jobId,
      ...(job.statusUrl ? { statusUrl: job.statusUrl } : {}),
    });
    const run = await this.getRun(runId);
    if (run && run.status === 'RUNNING' && run.jobId !== job.jobId)
      await this.store.put(runItem({ ...run, jobId: job.jobId }));
  }

  private async since(): Promise<string | null> {
    return (await this.watermark())?.transactionTime ?? null;
  }

  private async skip(input: AcquireInput, reason: string): Promise<AcquireResult> {
    const now = this.clock.now().toISOString();
    const existing = await this.getRun(input.executionName);
    if (!existing) {
      await this.store.put(
        runItem({
          runId: input.executionName,
          status: 'SKIPPED',
          since: null,
          startedAt: input.startTime ?? now,
          endedAt: now,
          executionArn: input.executionArn,
          cause: reason,
        }),
      );
    }
    return { acquired: false, runId: input.executionName, since: null, reason };
  }

  private async markOrphaned(lock: LockRecord, cause: string): Promise<void> {
    const run = await this.getRun(lock.runId);
    if (run?.status === 'RUNNING' && run.executionArn === lock.owner) {
      await this.store.put(
        runItem({
          ...run,
          status: 'FAILED',
          endedAt: this.clock.now().toISOString(),
          error: 'Ledger.LockRecovered',
          cause,
        }),
      );
    }
  }

  private async advanceWatermark(transactionTime: string, runId: string): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await this.watermark();
      if (current && Date.parse(current.transactionTime) >= Date.parse(transactionTime)) return;
      const written = await this.store.put(
        { ...WATERMARK_KEY, transactionTime, runId },
        current
          ? [{ kind: 'equals', attribute: 'transactionTime', value: current.transactionTime }]
          : [{ kind: 'absent' }],
      );
      if (written) return;
    }
    throw new LedgerError('Ledger.WatermarkContention', `run ${runId}: could not advance the watermark`);
  }

  private async releaseLock(executionArn: string): Promise<void> {
    await this.store.delete(LOCK_KEY.pk, LOCK_KEY.sk, [{ kind: 'equals', attribute: 'owner', value: executionArn }]);
  }
}

/**
 * Sums process-file outputs into counts per resource type.
 *
 * @example
 * sumCounts([{ type: 'Patient', kind: 'output', key: 'k', resources: 3, deleted: 0, errors: 1, files: 1 }])
 * // { Patient: { resources: 3, deleted: 0, errors: 1 } }
 */
export function sumCounts(results: readonly ProcessFileResult[]): RunCounts {
  const counts: RunCounts = {};
  for (const result of results ?? []) {
    if (!result || typeof result !== 'object') continue;
    const entryOf = (type: string) => (counts[type] ??= { resources: 0, deleted: 0, errors: 0 });
    entryOf(result.type).resources += Number(result.resources) || 0;
    if (result.deletedByType) {
      for (const [type, n] of Object.entries(result.deletedByType)) entryOf(type).deleted += Number(n) || 0;
    } else if (result.deleted) {
      entryOf(result.type).deleted += Number(result.deleted) || 0;
    }
    if (result.errors) entryOf(result.type).errors += Number(result.errors) || 0;
  }
  return counts;
}

function runItem(run: RunRecord): LedgerItem {
  return { pk: RUN_PK, sk: run.runId, ...run } as LedgerItem;
}

function toRun(item: LedgerItem): RunRecord {
  const { pk: _pk, sk: _sk, ...rest } = item;
  return rest as unknown as RunRecord;
}
