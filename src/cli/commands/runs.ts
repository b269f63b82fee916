import { existsSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { join } from 'node:path';
import { DEFAULT_STATE_DIR, stateDirPaths } from '../../local/state-dir.js';
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
      // A read-only command: with no embedded DynamoDB in the directory there is no run ledger, and opening the
      // stack would create state files (or the directory itself).
      const hasState = existsSync(stateDirPaths(options.dir).dynamodb);
      const runs = hasState
        ? await (await import('../../local/export-runs.js')).listExportRuns(options.dir, config, options.limit)
        : [];
      if (options.format === 'json') {
        process.stdout.write(`${JSON.stringify(runs, null, 2)}\n`);
        return;
      }
      if (runs.length === 0) {
        process.stdout.write(`no export runs yet in ${options.dir}: run \`tributary sync --dir ${options.dir}\`\n`);
        // `npm start` keeps its state in its own directory: point there rather than leave the user puzzled.
        const demoDir = join(DEFAULT_STATE_DIR, 'demo');
        if (options.dir === DEFAULT_STATE_DIR && existsSync(stateDirPaths(demoDir).dynamodb))
          process.stdout.write(`the demo's runs are in ${demoDir}: tributary runs --dir ${demoDir}\n`);
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
