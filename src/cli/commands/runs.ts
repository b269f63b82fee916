import { Option, type Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { configOption, dirOption } from '../options.js';
import { positiveInt } from '../option-parsers.js';

/** `tributary runs`: the export run history, newest first. */
export function registerRuns(program: Command): void {
  program
    .command('runs')
    .description(
      'List the FHIR export run history, newest first: id, status, since, transactionTime, counts, duration and error.',
    )
    .addOption(dirOption())
    .addOption(configOption())
    .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'json']).default('table'))
    .option('-n, --limit <n>', 'most runs to list', positiveInt('--limit'), 20)
    .action(async (options: { dir: string; config?: string; format: 'table' | 'json'; limit: number }) => {
      const { config } = await loadConfig(options.config);
      const { listExportRuns } = await import('../../local/export-runs.js');
      const runs = await listExportRuns(options.dir, config, options.limit);
      if (options.format === 'json') {
        process.stdout.write(`${JSON.stringify(runs, null, 2)}\n`);
        return;
      }
      if (runs.length === 0) {
        process.stdout.write('no export runs yet: run `tributary sync`\n');
        return;
      }
      const { formatResult } = await import('../../query/format.js');
      const rows = runs.map((run) => ({
        run: run.runId,
        status: run.status,
        since: run.since ?? '(full)',
        transactionTime: run.transactionTime ?? '',
        resources: run.resources,
        deleted: run.deleted,
        seconds: run.durationSeconds ?? '',
        error: run.error ?? '',
      }));
      process.stdout.write(`${formatResult({ columns: Object.keys(rows[0]!), rows }, 'table')}\n`);
    });
}
