import type { Command } from 'commander';

/** `tributary runs`: the export run history. */
export function registerRuns(program: Command): void {
  program.command('runs').description('List the FHIR export run history.');
}
