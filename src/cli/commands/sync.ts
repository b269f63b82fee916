import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { currentOwner } from '../../local/process-owner.js';
import { StateDirBusyError } from '../../local/state-dir-lock.js';
import { readEndpoints } from '../../local/state-dir.js';
import { configOption, dirOption, EXIT } from '../options.js';
import { Progress } from '../progress.js';
import { startupReport } from '../startup-report.js';
import { describeExportRun, describePipe, hadStreamGaps, type SyncOutcome } from '../sync-cycle.js';

/** `tributary sync`: drain every change stream, run one FHIR export cycle, flush and exit. */
export function registerSync(program: Command): void {
  program
    .command('sync')
    .description(
      'Drain every configured change stream from its checkpoint, run one FHIR export cycle, flush and exit. ' +
        'If `tributary up` is running on the state directory, it asks that process to run the cycle. ' +
        'Exit codes: 0 ok, 1 the run failed, 2 usage or config error, 3 skipped (another live process holds the state ' +
        'directory or the export lock; the line says which), 4 the run completed with errors (see _errors/fhir-export/) ' +
        "or a pipe's checkpoint had fallen behind the stream's trim horizon and was repaired (see _errors/<table>-pipe/).",
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
        if (outcome.exportRun) progress.note(describeExportRun(outcome.exportRun));
      } else {
        const { LocalStack } = await import('../../local/local-stack.js');
        const { runSyncCycle } = await import('../sync-cycle.js');
        let stack;
        try {
          // One-shot: a run a dead process left RUNNING is failed and its lock freed, not resumed here.
          stack = await LocalStack.open({
            dir: options.dir,
            config,
            owner: currentOwner('sync'),
            attach: false,
            exportRecovery: 'fail',
          });
        } catch (error) {
          if (!(error instanceof StateDirBusyError)) throw error;
          // Another live process embeds this state directory: not a failure, but cron users must notice.
          process.stderr.write(`tributary sync: skipped: ${error.message}\n`);
          process.exitCode = EXIT.busy;
          return;
        }
        try {
          for (const line of [...startupReport(stack), ...(stack.startup.preparedTables ?? [])]) progress.note(line);
          outcome = await runSyncCycle(stack, { export: options.export, progress });
        } finally {
          await stack.close();
        }
      }
      if (outcome.exportRun) {
        const run = outcome.exportRun;
        progress.note(`export run ${run.runId}: ${run.status}${run.error ? ` (${run.error})` : ''}`);
        process.exitCode = syncExitCode(run.status);
        // A skip is printed even with --quiet: the exit code alone does not say which run holds the lock.
        if (run.status === 'SKIPPED' && options.quiet)
          process.stderr.write(`tributary sync: export: skipped: ${run.reason ?? 'another run holds the lock'}\n`);
      }
      if (hadStreamGaps(outcome)) {
        // Repaired, but records were trimmed before a pipe read them: cron users must notice.
        const gaps = outcome.pipes.flatMap((pipe) => (pipe.gaps ?? []).map((gap) => ({ pipe: pipe.name, gap })));
        for (const { pipe, gap } of gaps)
          process.stderr.write(
            `tributary sync: pipe ${pipe}: shard ${gap.shardId} fell behind the stream's trim horizon ` +
              `(checkpoint time ${gap.checkpointTime ?? 'unknown'}); ` +
              (gap.repair === 'none'
                ? 'records were lost to it (not a lake pipe: nothing to repair with)'
                : `repaired by ${gap.repair} export ${gap.exportId}` +
                  `${gap.fallbackReason ? ` (${gap.fallbackReason})` : ''}`) +
              `; see _errors/${pipe}/\n`,
          );
        if (process.exitCode === undefined || process.exitCode === EXIT.ok) process.exitCode = EXIT.completedWithErrors;
      }
    });
}

/**
 * The exit code of `sync` for an export run's status: 0 COMPLETED, 3 SKIPPED (a live run holds the lock),
 * 4 COMPLETED_WITH_ERRORS, 1 anything else.
 *
 * @example
 * syncExitCode('SKIPPED') // 3
 */
export function syncExitCode(status: string): number {
  if (status === 'COMPLETED') return EXIT.ok;
  if (status === 'SKIPPED') return EXIT.busy;
  if (status === 'COMPLETED_WITH_ERRORS') return EXIT.completedWithErrors;
  return EXIT.failed;
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
