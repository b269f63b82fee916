import { Option, type Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import type { OutputFormat } from '../../query/format.js';
import { resolveLakeDir } from '../../local/lake-dir.js';
import { configOption, dirOption } from '../options.js';

/** `tributary query "<SQL>"`: DuckDB over the lake, with a view per dataset. */
export function registerQuery(program: Command): void {
  program
    .command('query')
    .description(
      'Run SQL (DuckDB) over the lake. Views: changes_<table>, fhir_<type>, fhir_<type>_history, events, errors.',
    )
    .argument('[sql]', 'the SQL to run')
    .addOption(dirOption())
    .addOption(configOption())
    .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'json', 'csv']).default('table'))
    .option('--views', 'list the views and exit')
    .action(
      async (
        sql: string | undefined,
        options: { dir: string; config?: string; format: OutputFormat; views?: boolean },
      ) => {
        const { config } = await loadConfig(options.config);
        // Heavy modules load only when the command runs, so `--help` stays fast.
        const { LakeQuery } = await import('../../query/lake-query.js');
        const { formatResult } = await import('../../query/format.js');
        // Only the views the SQL names are created; `--views` (or no SQL) creates and checks them all.
        const query = await LakeQuery.open(resolveLakeDir(options.dir, config), options.views || !sql ? {} : { sql });
        // What was left out, by name and reason only; the rest of the lake is still queryable.
        for (const warning of query.warnings)
          process.stderr.write(`tributary: warning: ${warning.subject}: ${warning.reason}\n`);
        if (query.warnings.some((w) => w.reason.startsWith('file left out')))
          process.stderr.write('tributary: run `tributary lake check --quarantine` to move unreadable files aside\n');
        try {
          if (options.views || !sql) {
            if (!sql && !options.views) process.stderr.write('no SQL given; the views are:\n');
            for (const view of query.views) process.stdout.write(`${view.name}\t${view.description}\n`);
            if (query.views.length === 0)
              process.stdout.write('(the lake is empty: run `tributary sync` or `npm start`)\n');
            return;
          }
          const result = await query.run(sql);
          process.stdout.write(`${formatResult(result, options.format)}\n`);
        } finally {
          await query.close();
        }
      },
    );
}
