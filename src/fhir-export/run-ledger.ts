import { systemClock, type Clock } from '../ports/clock.js';
import { LedgerError } from './errors.js';
import type { ExecutionState, ExecutionStatusPort } from './execution-status.js';
import type { ExportJobRegistry } from './job-registry.js';
import type { LedgerItem, LedgerStore } from './ledger-store.js';
import type {
  ExportErrors,
  ExportJobRef,
  FailedFile,
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
  /**
   * Lock lease, seconds. The owner's execution status decides first (see {@link RunLedger.acquire}); the lease only
   * frees a lock whose owner's status cannot be read. The local runtime renews it while its execution is alive.
   * Default {@link DEFAULT_LEASE_SECONDS}.
   */
  leaseSeconds?: number;
  /**
   * Cancels a run's export job on the server when the run fails or is taken over from a dead owner (best effort:
   * its errors are ignored), so a failed run leaves no job running there. The start/check steps cancel the jobs of
   * the failures they see; this covers the rest (heartbeat and execution timeouts, ProcessFiles failures, dead
   * owners). Locally it is the source's `cancelExport`; on AWS the run-ledger Lambda, which holds no FHIR
   * credentials, sends `{action:'cancel', …}` to the recheck queue for check-export (see aws-run-ledger-wiring.ts).
   * Default: none.
   */
  cancelJob?: (job: ExportJobRef) => Promise<void>;
}

/** Default lease: twice the default heartbeat (300 s). */
export const DEFAULT_LEASE_SECONDS = 600;

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
  /** Why the run was skipped (names the run holding the lock and its owner). */
  reason?: string;
  /** The run holding the lock, when skipped because of it. */
  heldBy?: string;
  /** The run whose lock this one took over, and why. */
  takenOver?: { runId: string; cause: string };
}

/** Input of {@link RunLedger.complete}. */
export interface CompleteInput {
  runId: string;
  executionArn: string;
  transactionTime: string;
  jobId: string;
  /** Process-file outputs to sum (small runs, tests); ignored when `counts` is given. */
  results?: readonly ProcessFileResult[];
  /** Counts already summed (from the Map's result files: see map-results.ts). */
  counts?: RunCounts;
  /** Files that failed within ToleratedFailurePercentage: the run is COMPLETED_WITH_ERRORS and names them. */
  failedFiles?: { count: number; files: FailedFile[] };
  exportErrors?: ExportErrors | null;
}

/** Answer of {@link RunLedger.complete}. */
export interface CompleteResult {
  /** `COMPLETED_WITH_ERRORS` when the export reported error files or lines were sent to `_errors/fhir-export/`. */
  status: 'COMPLETED' | 'COMPLETED_WITH_ERRORS';
  counts: RunCounts;
  /** Errors per resource type (only types with errors); `{}` when none. */
  errors: Record<string, number>;
  /** Files that could not be landed (tolerated Map failures); 0 when none. */
  failedFiles: number;
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
 * taken over when its owner's execution is no longer RUNNING, and expires after its lease when the owner's status
 * cannot be read, so it never sticks.
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
    this.leaseSeconds = options.leaseSeconds ?? DEFAULT_LEASE_SECONDS;
  }

  /**
   * Takes the lock for an execution (re-entrant for the same execution) and records the run as RUNNING.
   * The rule, in order, when another execution holds the lock:
   * 1. its status is RUNNING or PENDING_REDRIVE → skip, whatever the lease says (a live owner is never taken over);
   * 2. its status says it ended (SUCCEEDED, FAILED, TIMED_OUT, ABORTED), does not exist (UNKNOWN), or its process
   *    died (OWNER_DEAD, local) → take over at once, marking its run FAILED;
   * 3. its status cannot be read (the port throws) → take over only once the lease has expired, else skip.
   */
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
    let takenOver: AcquireResult['takenOver'];
    if (!current) {
      condition = [{ kind: 'absent' }];
    } else {
      let ownerState: ExecutionState | undefined;
      try {
        ownerState = await this.options.executions.statusOf(current.owner);
      } catch {
        ownerState = undefined;
      }
      if (ownerState === 'RUNNING' || ownerState === 'PENDING_REDRIVE') {
        return this.skip(
          input,
          `run ${current.runId} is running (owner ${await this.ownerOf(current.owner)})`,
          current.runId,
        );
      }
      if (ownerState === undefined && current.leaseUntil >= nowSeconds) {
        return this.skip(
          input,
          `run ${current.runId} holds the lock and its owner's status cannot be read (owner ${current.owner}); the lease ends ${new Date(current.leaseUntil * 1000).toISOString()}`,
          current.runId,
        );
      }
      const cause =
        ownerState === undefined
          ? 'lock lease expired and the owner status cannot be read'
          : ownerState === 'OWNER_DEAD'
            ? `owner process died (${await this.ownerOf(current.owner)})`
            : `owner execution ended with status ${ownerState}`;
      await this.markOrphaned(current, cause);
      takenOver = { runId: current.runId, cause };
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
      ...(takenOver ? { tookOverFrom: takenOver } : {}),
    };
    await this.store.put(runItem(run));
    return { acquired: true, runId, since, ...(takenOver ? { takenOver } : {}) };
  }

  /**
   * Extends the lease of a lock this execution holds (the local runtime calls it while the execution is alive).
   * Returns false when the execution no longer holds the lock.
   *
   * @example
   * setInterval(() => void ledger.renew(executionArn), leaseSeconds * 1000 / 3);
   */
  public async renew(executionArn: string): Promise<boolean> {
    const current = await this.lock();
    if (!current || current.owner !== executionArn) return false;
    return this.store.put(
      {
        ...LOCK_KEY,
        ...current,
        leaseUntil: Math.floor(this.clock.now().getTime() / 1000) + this.leaseSeconds,
      },
      [{ kind: 'equals', attribute: 'owner', value: executionArn }],
    );
  }

  /**
   * Records the end of a run: watermark = the manifest's transactionTime (only ever moves forward), counts, lock
   * released. The run is COMPLETED_WITH_ERRORS when the export reported error files or any line went to
   * `_errors/fhir-export/`, or files failed within ToleratedFailurePercentage (named on the run); the watermark advances all the same (policy `continue`: the failed resources are in
   * `_errors/fhir-export/`, and are not fetched again by the next incremental run).
   */
  public async complete(input: CompleteInput): Promise<CompleteResult> {
    if (Number.isNaN(Date.parse(input.transactionTime))) {
      throw new LedgerError('Ledger.InvalidTransactionTime', `run ${input.runId}: transactionTime is not a date`);
    }
    const run = await this.getRun(input.runId);
    if (!run) throw new LedgerError('Ledger.RunNotFound', `run ${input.runId} not found`);
    if ((run.status === 'COMPLETED' || run.status === 'COMPLETED_WITH_ERRORS') && run.counts) {
      await this.releaseLock(input.executionArn);
      return {
        status: run.status,
        counts: run.counts,
        errors: errorsByType(run.counts),
        failedFiles: run.failedFiles?.count ?? 0,
      };
    }
    const counts = input.counts ?? sumCounts(input.results ?? []);
    const errors = errorsByType(counts);
    const exportErrors = input.exportErrors ?? [];
    const failedFiles = input.failedFiles && input.failedFiles.count > 0 ? input.failedFiles : undefined;
    const status =
      exportErrors.length > 0 || Object.keys(errors).length > 0 || failedFiles ? 'COMPLETED_WITH_ERRORS' : 'COMPLETED';
    await this.advanceWatermark(input.transactionTime, input.runId);
    const completed: RunRecord = {
      ...run,
      status,
      endedAt: this.clock.now().toISOString(),
      jobId: input.jobId,
      transactionTime: input.transactionTime,
      counts,
      ...(exportErrors.length > 0 ? { exportErrors } : {}),
      ...(failedFiles ? { failedFiles } : {}),
    };
    delete completed.error;
    delete completed.cause;
    await this.store.put(runItem(completed));
    await this.releaseLock(input.executionArn);
    return { status, counts, errors, failedFiles: failedFiles?.count ?? 0 };
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
      await this.cancelJobOf(run.runId);
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

  /** A readable owner for messages: the local runtime names the process (`sync (pid 7 on h)`), else the ARN. */
  private async ownerOf(executionArn: string): Promise<string> {
    try {
      return (await this.options.executions.describeOwner?.(executionArn)) ?? executionArn;
    } catch {
      return executionArn;
    }
  }

  private async skip(input: AcquireInput, reason: string, heldBy?: string): Promise<AcquireResult> {
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
    return { acquired: false, runId: input.executionName, since: null, reason, ...(heldBy ? { heldBy } : {}) };
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
      await this.cancelJobOf(run.runId);
    }
  }

  /** Best-effort cancel of a run's export job (see {@link RunLedgerOptions.cancelJob}). */
  private async cancelJobOf(runId: string): Promise<void> {
    if (!this.options.cancelJob) return;
    const job = await this.findJob(runId).catch(() => undefined);
    if (job) await this.options.cancelJob(job).catch(() => undefined);
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
    // A deleted file's type is the container (`Bundle`): its tombstones count under the types they delete, and it gets
    // no entry of its own unless it had rejected lines.
    if (result.kind !== 'deleted' || Number(result.resources) > 0) {
      entryOf(result.type).resources += Number(result.resources) || 0;
    }
    if (result.deletedByType) {
      for (const [type, n] of Object.entries(result.deletedByType)) entryOf(type).deleted += Number(n) || 0;
    } else if (result.deleted) {
      entryOf(result.type).deleted += Number(result.deleted) || 0;
    }
    if (result.errors) entryOf(result.type).errors += Number(result.errors) || 0;
  }
  return counts;
}

/**
 * Errors per resource type, only for types that have some.
 *
 * @example
 * errorsByType({ Patient: { resources: 3, deleted: 0, errors: 1 } }) // { Patient: 1 }
 */
export function errorsByType(counts: RunCounts): Record<string, number> {
  const errors: Record<string, number> = {};
  for (const [type, entry] of Object.entries(counts)) if (entry.errors > 0) errors[type] = entry.errors;
  return errors;
}

function runItem(run: RunRecord): LedgerItem {
  return { pk: RUN_PK, sk: run.runId, ...run } as LedgerItem;
}

function toRun(item: LedgerItem): RunRecord {
  const { pk: _pk, sk: _sk, ...rest } = item;
  return rest as unknown as RunRecord;
}
