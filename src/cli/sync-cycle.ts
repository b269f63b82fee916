import type { LocalStack } from '../local/local-stack.js';
import { materialiseCurrentState } from '../lake/current-state.js';
import { describeViewUpdate, VIEW_UPDATED } from '../local/view-updates.js';
import type { ViewUpdate } from '../views/lake/types.js';
import type { Progress } from './progress.js';
import type { GapReport } from '../pipes/types.js';

/** What one sync cycle did. */
export interface SyncOutcome {
  pipes: Array<{
    name: string;
    read: number;
    delivered: number;
    filteredOut: number;
    rejected?: number;
    /** Stream gaps found (the pipe's position behind the trim horizon) and repaired: `sync` then exits 4. */
    gaps?: GapReport[];
  }>;
  exportRun?: {
    runId: string;
    /** COMPLETED, COMPLETED_WITH_ERRORS, SKIPPED or FAILED. */
    status: string;
    error?: string;
    counts?: Record<string, { resources: number; deleted: number; errors: number }>;
    /** Why a SKIPPED run was skipped: `run <runId> is running (owner …)`. */
    reason?: string;
    /** Errors per resource type (COMPLETED_WITH_ERRORS). */
    errors?: Record<string, number>;
    /** The run whose lock this one took over, and why. */
    tookOverFrom?: { runId: string; cause: string };
  };
}

/**
 * One line about what a pipe did in a cycle (counts only).
 *
 * @example
 * describePipe({ name: 'visits-pipe', read: 3, filteredOut: 1, delivered: 2 }) // 'pipe visits-pipe: 3 records read, …'
 */
export function describePipe(row: SyncOutcome['pipes'][number]): string {
  const rejected = row.rejected ? `, ${row.rejected} rejected` : '';
  const gaps = (row.gaps ?? []).map(
    (gap) =>
      `; stream gap in shard ${gap.shardId} (checkpoint time ${gap.checkpointTime ?? 'unknown'}) ` +
      (gap.repair === 'none'
        ? 'reported, not repairable (not a lake pipe); resumed at the trim horizon'
        : `repaired by ${gap.repair === 'incremental' ? 'an INCREMENTAL' : 'a FULL'} export ${gap.exportId} (${gap.records} records)`),
  );
  return `pipe ${row.name}: ${row.read} records read, ${row.filteredOut} filtered out, ${row.delivered} delivered${rejected}${gaps.join('')}`;
}

/**
 * Whether a cycle found stream gaps (a pipe's checkpoint behind the stream's trim horizon): repaired, but reported
 * with exit 4, as records were trimmed before the pipe read them.
 *
 * @example
 * if (hadStreamGaps(outcome)) process.exitCode = EXIT.completedWithErrors;
 */
export function hadStreamGaps(outcome: SyncOutcome): boolean {
  return outcome.pipes.some((pipe) => (pipe.gaps ?? []).length > 0);
}

/**
 * The summary line of an export run: its status, what landed, and why it was skipped or which errors it had.
 *
 * @example
 * describeExportRun({ runId: 'r', status: 'SKIPPED', reason: 'run r0 is running (owner up (pid 7 on h))' })
 * // 'export: skipped: run r0 is running (owner up (pid 7 on h))'
 */
export function describeExportRun(run: NonNullable<SyncOutcome['exportRun']>): string {
  if (run.status === 'SKIPPED') return `export: skipped: ${run.reason ?? 'another run holds the lock'}`;
  const counts = Object.values(run.counts ?? {});
  const total = counts.reduce((sum, c) => sum + c.resources, 0);
  const deleted = counts.reduce((sum, c) => sum + c.deleted, 0);
  const errors = Object.entries(run.errors ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([type, n]) => `${type} ${n}`);
  return (
    `export run ${run.runId}: ${run.status}, ${total} resources and ${deleted} deletions landed` +
    (errors.length > 0 ? `; errors by type: ${errors.join(', ')} (see the errors view, _errors/fhir-export/)` : '')
  );
}

/**
 * One sync cycle: drain every pipe (flush + checkpoint), then run one export cycle.
 * Shared by `tributary sync`, `tributary demo` and the `up` control endpoint.
 *
 * @example
 * const outcome = await runSyncCycle(stack, { export: true, progress });
 */
export async function runSyncCycle(
  stack: LocalStack,
  options: { export: boolean; progress: Progress },
): Promise<SyncOutcome> {
  const { progress } = options;
  const outcome: SyncOutcome = { pipes: [] };
  for (const pipe of stack.pipes) {
    const before = { ...pipe.stats };
    await pipe.drain();
    // Gaps a poll of `up` repaired since the last cycle are reported here too.
    const gaps = pipe.takeGapReports();
    const row = {
      name: pipe.pipe.name,
      read: pipe.stats.read - before.read,
      delivered: pipe.stats.delivered - before.delivered,
      filteredOut: pipe.stats.filteredOut - before.filteredOut,
      rejected: (pipe.stats.rejected ?? 0) - (before.rejected ?? 0),
      ...(gaps.length > 0 ? { gaps } : {}),
    };
    outcome.pipes.push(row);
    progress.note(describePipe(row));
  }
  await stack.bus.flush();
  // current_<table>: each change file the drain landed gets its Parquet delta (latest image per key).
  for (const table of stack.config.tables) {
    if (!table.pipe || table.pipe.target !== 'lake') continue;
    const update = await materialiseCurrentState({ store: stack.lake, table: table.name });
    if (update.files > 0)
      progress.note(`current ${table.name}: ${update.files} change files folded in (${update.keys} keys)`);
  }
  if (options.export && stack.exportRuntime) {
    progress.note('export: starting a run');
    const run = await stack.exportRuntime.runOnce({
      onProgress: (event) => {
        if (event.stateName) progress.note(`export ${event.runId}: ${event.type} ${event.stateName}`);
        if (event.type === VIEW_UPDATED) progress.note(describeViewUpdate(event.detail as unknown as ViewUpdate));
      },
    });
    await stack.bus.flush();
    outcome.exportRun = {
      runId: run.runId,
      status: run.status,
      counts: run.counts,
      ...(run.error ? { error: `${run.error.error}${run.error.cause ? `: ${run.error.cause}` : ''}` } : {}),
      ...(run.reason ? { reason: run.reason } : {}),
      ...(run.errors ? { errors: run.errors } : {}),
      ...(run.tookOverFrom ? { tookOverFrom: run.tookOverFrom } : {}),
    };
    if (run.tookOverFrom)
      progress.note(`export: took over the lock of run ${run.tookOverFrom.runId} (${run.tookOverFrom.cause})`);
    progress.note(describeExportRun(outcome.exportRun));
  }
  return outcome;
}
