import { relative } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { resolveLakeDir } from '../../local/lake-dir.js';
import { EXIT, configOption, dirOption } from '../options.js';

/**
 * `tributary lake check [--quarantine]`: lists lake files that cannot be read (gzip or JSON errors) with the
 * reason; exit 1 if there are any. `--quarantine` moves them to `<lake>/_quarantine/<same path>`.
 *
 * @example
 * registerLake(program); // tributary lake check --dir .tributary --quarantine
 */
export function registerLake(program: Command): void {
  const lake = program.command('lake').description('Maintain the lake.');
  lake
    .command('check')
    .description(
      'List lake files that cannot be read (truncated or corrupt gzip, malformed JSON), with the reason. ' +
        'Exit 1 if there are any.',
    )
    .addOption(dirOption())
    .addOption(configOption())
    .option('--quarantine', 'move unreadable files to <lake>/_quarantine/<same relative path>')
    .exitOverride()
    .action(async (options: { dir: string; config?: string; quarantine?: boolean }) => {
      const { config } = await loadConfig(options.config);
      const { checkLake, quarantine } = await import('../../query/lake-check.js');
      const dir = resolveLakeDir(options.dir, config);
      const { checked, unreadable } = await checkLake(dir);
      for (const { file, reason } of unreadable) {
        const where = relative(dir, file);
        if (options.quarantine) {
          const moved = relative(dir, await quarantine(dir, file));
          process.stdout.write(`${where}\t${reason}\tmoved to ${moved}\n`);
        } else process.stdout.write(`${where}\t${reason}\n`);
      }
      process.stderr.write(
        `${checked} file${checked === 1 ? '' : 's'} checked, ${unreadable.length} unreadable` +
          (unreadable.length > 0 && !options.quarantine ? ' (move them aside with --quarantine)' : '') +
          '\n',
      );
      if (unreadable.length > 0) process.exitCode = EXIT.failed;
    });
}
