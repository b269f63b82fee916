import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/errors.js';
import { UsageError } from './errors.js';
import { registerQuery } from './commands/query.js';
import { registerSync } from './commands/sync.js';
import { registerUp } from './commands/up.js';
import { registerDemo } from './commands/demo.js';
import { registerRuns } from './commands/runs.js';
import { registerSeed } from './commands/seed.js';
import { EXIT } from './options.js';

export { EXIT } from './options.js';

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
    .exitOverride();
  for (const register of [registerDemo, registerUp, registerSync, registerQuery, registerRuns, registerSeed]) {
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
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.code === 'commander.help'
      )
        return EXIT.ok;
      return EXIT.usage; // commander already printed the message
    }
    if (error instanceof ConfigError || error instanceof UsageError) {
      process.stderr.write(`tributary: ${error.message}\n`);
      return EXIT.usage;
    }
    process.stderr.write(`tributary: ${(error as Error).message ?? String(error)}\n`);
    if (process.env.TRIBUTARY_DEBUG) process.stderr.write(`${(error as Error).stack}\n`);
    return EXIT.failed;
  }
}
