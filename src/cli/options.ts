import { Option } from 'commander';
import { DEFAULT_STATE_DIR } from '../local/state-dir.js';

/**
 * Exit codes of every command, documented in the README:
 * 0 ok, 1 the work failed, 2 usage or config error, 3 skipped because another live process holds the work,
 * 4 the work completed but some of its input was rejected (see the `errors` view).
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, busy: 3, completedWithErrors: 4 } as const;

/**
 * `--dir` option shared by every command.
 *
 * @example
 * program.command('sync').addOption(dirOption());
 */
export const dirOption = () => new Option('-d, --dir <dir>', 'state directory').default(DEFAULT_STATE_DIR);

/**
 * `--config` option shared by every command that reads the config.
 *
 * @example
 * program.command('sync').addOption(configOption());
 */
export const configOption = () =>
  new Option('-c, --config <file>', 'config file (default: tributary.config.json, else the built-in demo config)');
