import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { resolveLakeDir } from '../../local/lake-dir.js';
import { DirectoryObjectStore } from '../../local/object-store/directory-object-store.js';
import { describeViewUpdate } from '../../local/view-updates.js';
import { DEFAULT_VIEW_FILES, loadViewFiles } from '../../views/lake/load-views.js';
import { rebuildViews } from '../../views/lake/update-views.js';
import { UsageError } from '../errors.js';
import { configOption, dirOption, EXIT } from '../options.js';

/**
 * `tributary views rebuild [--name N]`: rebuilds the configured materialised views from the whole lake (one base per
 * view; older deltas removed). Exit 4 when some resources could not be turned into rows (see `_errors/views/`).
 */
export function registerViews(program: Command): void {
  const views = program.command('views').description('materialised views in the lake (views/<name>/, view_<name>)');
  views
    .command('rebuild')
    .description(
      'Rebuild materialised views from the lake: each view gets one base (views/<name>/run=<latest run>~base/) ' +
        'holding the rows of every current resource, then its older files are removed. Also compacts the deltas ' +
        'incremental updates left. Exit codes: 0 ok, 2 usage or config error, 4 some resources gave row errors.',
    )
    .option('-n, --name <view>', 'only this view (default: every configured view)')
    .addOption(dirOption())
    .addOption(configOption())
    .action(async (options: { name?: string; dir: string; config?: string }) => {
      const { config } = await loadConfig(options.config);
      const all = loadViewFiles(config.views ?? DEFAULT_VIEW_FILES);
      const selected = options.name ? all.filter((view) => view.name === options.name) : all;
      if (options.name && selected.length === 0)
        throw new UsageError(
          `--name ${options.name}: no such view (configured: ${all.map((v) => v.name).join(', ') || 'none'})`,
        );
      const store = new DirectoryObjectStore(resolveLakeDir(options.dir, config));
      let errors = 0;
      for (const view of selected) {
        const started = Date.now();
        const [update] = await rebuildViews({ store, views: [view] });
        errors += update!.errors;
        process.stderr.write(`${describeViewUpdate(update!)} (rebuilt in ${Date.now() - started} ms)\n`);
      }
      process.exitCode = errors > 0 ? EXIT.completedWithErrors : EXIT.ok;
    });
}
