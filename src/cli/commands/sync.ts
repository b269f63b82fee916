import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { readEndpoints } from '../../local/state-dir.js';
import { configOption, dirOption } from '../options.js';
import { Progress } from '../progress.js';
import { describePipe, type SyncOutcome } from '../sync-cycle.js';

/** `tributary sync`: drain every change stream, run one FHIR export cycle, flush and exit. */
export function registerSync(program: Command): void {
  program
    .command('sync')
    .description(
      'Drain every configured change stream from its checkpoint, run one FHIR export cycle, flush and exit. ' +
        'If `tributary up` is running on the state directory, it asks that process to run the cycle.',
    )
    .addOption(dirOption())
    .addOption(configOption())
    .option('--no-export', 'skip the FHIR export cycle')
    .option('-q, --quiet', 'print only errors')
    .action(async (options: { dir: string; config?: string; export: boolean; quiet?: boolean }) => {
      const { config } = await loadConfig(options.config);
      const progress = new Progress('sync', process.stderr, 2000, Boolean(options.quiet));
      const remote = await runningControl(options.dir);
      let outcome: SyncOutcome;
      if (remote) {
        progress.note(`asking the running tributary up (${remote}) to sync`);
        const response = await fetch(`${remote}/sync`, {
          method: 'POST',
          body: JSON.stringify({ export: options.export }),
        });
        const body = (await response.json()) as SyncOutcome & { error?: string };
        if (!response.ok) throw new Error(`tributary up could not sync: ${body.error ?? response.status}`);
        outcome = body;
        for (const pipe of outcome.pipes) progress.note(describePipe(pipe));
      } else {
        const { LocalStack } = await import('../../local/local-stack.js');
        const { runSyncCycle } = await import('../sync-cycle.js');
        const stack = await LocalStack.open({ dir: options.dir, config, owner: `sync:${process.pid}`, attach: false });
        try {
          outcome = await runSyncCycle(stack, { export: options.export, progress });
        } finally {
          await stack.close();
        }
      }
      if (outcome.exportRun) {
        progress.note(
          `export run ${outcome.exportRun.runId}: ${outcome.exportRun.status}${outcome.exportRun.error ? ` (${outcome.exportRun.error})` : ''}`,
        );
        if (!['COMPLETED', 'SKIPPED'].includes(outcome.exportRun.status)) process.exitCode = 1;
      }
    });
}

/** The control URL of a live `tributary up` on this state directory, if any. */
async function runningControl(dir: string): Promise<string | undefined> {
  const endpoints = await readEndpoints(dir);
  if (!endpoints?.control) return undefined;
  try {
    const response = await fetch(`${endpoints.control}/health`, { signal: AbortSignal.timeout(2000) });
    await response.body?.cancel().catch(() => undefined);
    return response.ok ? endpoints.control : undefined;
  } catch {
    return undefined;
  }
}
