import { ensureSeedTables, seedDynamo } from '../synthetic/dynamo-loader.js';
import { seedFhir } from '../synthetic/fhir-loader.js';
import type { DynamoSeedCounts } from '../synthetic/dynamo-loader.js';
import type { SeedCounts } from '../synthetic/types.js';
import type { LocalStack } from './local-stack.js';

/** Progress of a seed: `update` while loading, `done` once per finished part. The CLI passes its `Progress`. */
export interface SeedProgress {
  update(done: number, total?: number, unit?: string): void;
  done(message: string): void;
}

/** What {@link seedPopulation} loaded. */
export interface PopulationCounts {
  fhir: SeedCounts;
  dynamodb?: DynamoSeedCounts;
}

/**
 * Loads a synthetic population into the local stack: FHIR bundles through the FHIR API, and the
 * matching domain `patients` and `visits` records through the DynamoDB SDK, joinable on the patient id.
 *
 * @example
 * const counts = await seedPopulation(stack, { patients: 20, seed: '1', dynamodb: true, progress });
 */
export async function seedPopulation(
  stack: LocalStack,
  options: {
    patients: number;
    seed: string;
    dynamodb: boolean;
    concurrency?: number;
    progress: SeedProgress;
    now?: Date;
  },
): Promise<PopulationCounts> {
  const fhirBaseUrl = stack.endpoints.fhir;
  if (!fhirBaseUrl) throw new Error('the local stack has no FHIR endpoint');
  const { progress } = options;
  const population = { patients: options.patients, seed: options.seed, ...(options.now ? { now: options.now } : {}) };
  const fhir = await seedFhir({
    fhirBaseUrl,
    ...population,
    concurrency: options.concurrency ?? 4,
    onProgress: (done, total, resources) => progress.update(done, total, `patients (${resources} resources)`),
  });
  progress.done(`${fhir.resources} FHIR resources for ${fhir.patients} patients`);
  if (!options.dynamodb) return { fhir };
  await ensureSeedTables(stack.clients.dynamodb);
  const dynamodb = await seedDynamo({
    client: stack.clients.documents,
    ...population,
    onProgress: (done, total) => progress.update(done, total, 'domain patients'),
  });
  progress.done(`${dynamodb.patients} domain patients and ${dynamodb.visits} visits in DynamoDB`);
  return { fhir, dynamodb };
}
