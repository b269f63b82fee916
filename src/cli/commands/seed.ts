import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { currentOwner } from '../../local/process-owner.js';
import { configOption, dirOption } from '../options.js';
import { positiveInt } from '../option-parsers.js';
import { Progress } from '../progress.js';

/** `tributary seed`: deterministic synthetic FHIR data, and matching domain records in DynamoDB. */
export function registerSeed(program: Command): void {
  program
    .command('seed')
    .description(
      'Generate deterministic, realistic FHIR R4 data (Patient, Practitioner, Organization, Encounter, Observation, Condition, ' +
        'MedicationRequest) and load it through the FHIR API; write matching patients and visits to DynamoDB.',
    )
    .addOption(dirOption())
    .addOption(configOption())
    .option('-n, --patients <n>', 'number of patients', positiveInt('--patients'), 20)
    .option('-s, --seed <seed>', 'random seed (same seed, same data)', '1')
    .option('--no-dynamodb', 'do not write domain records to DynamoDB')
    .option('--concurrency <n>', 'bundles in flight', positiveInt('--concurrency'), 4)
    .action(
      async (options: {
        dir: string;
        config?: string;
        patients: number;
        seed: string;
        dynamodb: boolean;
        concurrency: number;
      }) => {
        const { config } = await loadConfig(options.config);
        const { LocalStack } = await import('../../local/local-stack.js');
        const { seedPopulation } = await import('../../local/seed-population.js');
        const stack = await LocalStack.open({ dir: options.dir, config, owner: currentOwner('seed') });
        try {
          const counts = await seedPopulation(stack, {
            patients: options.patients,
            seed: options.seed,
            dynamodb: options.dynamodb,
            concurrency: options.concurrency,
            progress: new Progress('seed'),
          });
          const types = Object.entries(counts.fhir.byType)
            .map(([type, n]) => `${type} ${n}`)
            .join(', ');
          process.stdout.write(`seeded ${counts.fhir.resources} FHIR resources (${types})\n`);
          if (counts.dynamodb)
            process.stdout.write(
              `wrote ${counts.dynamodb.patients} patients and ${counts.dynamodb.visits} visits to DynamoDB\n`,
            );
        } finally {
          await stack.close();
        }
      },
    );
}
