import type { LocalStack } from '../local/local-stack.js';
import type { Progress } from './progress.js';

/** What one sync cycle did. */
export interface SyncOutcome {
  pipes: Array<{ name: string; read: number; delivered: number; filteredOut: number }>;
  exportRun?: {
    runId: string;
    status: string;
    error?: string;
    counts?: Record<string, { resources: number; deleted: number; errors: number }>;
  };
}

/**
 * One line about what a pipe did in a cycle (counts only).
 *
 * @example
 * describePipe({ name: 'visits-pipe', read: 3, filteredOut: 1, delivered: 2 }) // 'pipe visits-pipe: 3 records read, …'
 */
export function describePipe(row: SyncOutcome['pipes'][number]): string {
  return `pipe ${row.name}: ${row.read} records read, ${row.filteredOut} filtered out, ${row.delivered} delivered`;
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
    const row = {
      name: pipe.pipe.name,
      read: pipe.stats.read - before.read,
      delivered: pipe.stats.delivered - before.delivered,
      filteredOut: pipe.stats.filteredOut - before.filteredOut,
    };
    outcome.pipes.push(row);
    progress.note(describePipe(row));
  }
  await stack.bus.flush();
  if (options.export && stack.exportRuntime) {
    progress.note('export: starting a run');
    const run = await stack.exportRuntime.runOnce({
      onProgress: (event) => {
        if (event.stateName) progress.note(`export ${event.runId}: ${event.type} ${event.stateName}`);
      },
    });
    await stack.bus.flush();
    outcome.exportRun = {
      runId: run.runId,
      status: run.status,
      counts: run.counts,
      ...(run.error ? { error: `${run.error.error}${run.error.cause ? `: ${run.error.cause}` : ''}` } : {}),
    };
    const total = Object.values(run.counts).reduce((sum, c) => sum + c.resources, 0);
    const deleted = Object.values(run.counts).reduce((sum, c) => sum + c.deleted, 0);
    progress.note(`export run ${run.runId}: ${run.status}, ${total} resources and ${deleted} deletions landed`);
  }
  return outcome;
}
