import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/errors.js';
import { loadConfig } from '../config/load.js';
import {
  checkStateDir,
  findNotADatabase,
  notADatabaseMessage,
  StateDirError,
  type StateDirUse,
} from '../local/state-dir-check.js';
import { UsageError } from './errors.js';
import { registerQuery } from './commands/query.js';
import { registerLake } from './commands/lake.js';
import { registerView } from './commands/view.js';
import { registerViews } from './commands/views.js';
import { registerSync } from './commands/sync.js';
import { registerUp } from './commands/up.js';
import { registerDemo } from './commands/demo.js';
import { registerRuns } from './commands/runs.js';
import { registerSeed } from './commands/seed.js';
import { registerBackfill } from './commands/backfill.js';
import { EXIT } from './options.js';
import { StateDirBusyError } from '../local/state-dir-lock.js';

export { EXIT } from './options.js';

/** What each command does with its `--dir`: read-only commands must not create state (see {@link StateDirUse}). */
const STATE_DIR_USE: Readonly<Record<string, StateDirUse>> = {
  demo: 'fresh',
  query: 'read',
  runs: 'open',
  check: 'read',
};

/**
 * Runs before every command's action: checks `--dir` (exit 2 naming the path and the problem) and prints the
 * config's warnings to stderr. Commands load the config again themselves; it is a small file.
 */
async function preflight(command: Command): Promise<void> {
  const options = command.opts<{ dir?: string; config?: string }>();
  if (command.options.some((option) => option.long === '--config')) {
    const { warnings } = await loadConfig(options.config);
    for (const warning of warnings) process.stderr.write(`tributary: warning: ${warning}\n`);
  }
  if (typeof options.dir === 'string') await checkStateDir(options.dir, STATE_DIR_USE[command.name()] ?? 'create');
}

/**
 * Builds the `tributary` command line.
 *
 * @example
 * await buildProgram().parseAsync(['node', 'tributary', 'query', 'select 1']);
 */
export function buildProgram(): Command {
  const program = new Command('tributary')
    .description('Land FHIR exports and DynamoDB change streams in a Hive-partitioned lake, on AWS or on one machine.')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .hook('preAction', (_program, command) => preflight(command));
  for (const register of [
    registerDemo,
    registerUp,
    registerSync,
    registerBackfill,
    registerQuery,
    registerRuns,
    registerSeed,
    registerLake,
    registerView,
    registerViews,
  ]) {
    register(program);
  }
  for (const command of program.commands) command.exitOverride();
  return program;
}

/**
 * Runs the CLI and returns its exit code instead of exiting, so tests can call it in-process.
 *
 * @example
 * process.exitCode = await main(process.argv);
 */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  let dir: string | undefined;
  program.hook('preAction', (_program, command) => {
    dir = command.opts<{ dir?: string }>().dir;
  });
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help asked for (`--help`, `help`) or the version: success. Help shown because a command is missing
      // (`tributary`, `tributary lake`) is `commander.help` with exit code 1: a usage error.
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT.ok;
      if (error.code === 'commander.help') return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
      return EXIT.usage; // commander already printed the message
    }
    if ((error as { code?: unknown }).code === 'SQLITE_NOTADB' && dir !== undefined) {
      // A state file the preflight did not see (e.g. replaced while running): name it if we can.
      const file = await findNotADatabase(dir, { openWithSqlite: true }).catch(() => undefined);
      process.stderr.write(
        `tributary: ${file ? notADatabaseMessage(file) : `a state file in ${dir} is not a database (file is not a database); move it aside or use another --dir`}\n`,
      );
      return EXIT.usage;
    }
    if (error instanceof StateDirBusyError) {
      // Another live process holds the state directory (seed, demo, runs…): the work was not done, on purpose.
      process.stderr.write(`tributary: ${error.message}\n`);
      return EXIT.busy;
    }
    if (error instanceof ConfigError || error instanceof UsageError || error instanceof StateDirError) {
      process.stderr.write(`tributary: ${error.message}\n`);
      return EXIT.usage;
    }
    process.stderr.write(`tributary: ${(error as Error).message ?? String(error)}\n`);
    if (process.env.TRIBUTARY_DEBUG) process.stderr.write(`${(error as Error).stack}\n`);
    return EXIT.failed;
  }
}
