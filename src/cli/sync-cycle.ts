import type { LocalStack } from '../local/local-stack.js';
import type { Progress } from './progress.js';

/** What one sync cycle did. */
export interface SyncOutcome {
  pipes: Array<{ name: string; read: number; delivered: number; filteredOut: number }>;
  exportRun?: { runId: string; status: string; error?: string };
}

/**
 * One sync cycle: drain every pipe (flush + checkpoint), then run one export cycle.
 * Shared by `tributary sync`, `tributary demo` and the `up` control endpoint.
 *
 * @example
 * const outcome = await runSyncCycle(stack, { export: true, progress });
 */
export async function runSyncCycle(stack: LocalStack, options: { export: boolean; progress: Progress }): Promise<SyncOutcome> {
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
    progress.note(`pipe ${row.name}: ${row.read} records read, ${row.filteredOut} filtered out, ${row.delivered} delivered`);
  }
  await stack.bus.flush();
  return outcome;
}
