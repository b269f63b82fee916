import type { Command } from 'commander';

/** `tributary seed`: synthetic data. */
export function registerSeed(program: Command): void {
  program.command('seed').description('Generate deterministic synthetic FHIR and domain data.');
}
