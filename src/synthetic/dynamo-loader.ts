import { ensureTables } from '../aws/ensure-tables.js';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { generateDomainRecords } from './domain-records.js';
import { DynamoSeedError } from './errors.js';
import { resolvePopulationOptions } from './options.js';
import { backoffDelay, forEachBounded, resolveRetry, sleep, type ResolvedRetry } from './retry.js';
import type { PopulationOptions, RetryOptions, SeedProgress } from './types.js';

/** Default table names used by `tributary seed`. */
export const SEED_TABLES = { patients: 'patients', visits: 'visits' } as const;

/** BatchWriteItem accepts at most 25 put/delete requests per call. */
const BATCH_LIMIT = 25;

/**
 * Creates the `patients` and `visits` tables (partition key `id`, on-demand, stream
 * `NEW_AND_OLD_IMAGES`) when they are missing, and waits until they are ACTIVE.
 * Returns the names it created. Accepts a plain or a Document client.
 *
 * @example
 * await ensureSeedTables(new DynamoDBClient({ endpoint }));
 */
export async function ensureSeedTables(
  client: DynamoDBClient | DynamoDBDocumentClient,
  tables: { patients?: string; visits?: string } = {},
): Promise<string[]> {
  // The Document client only narrows the command types; it sends any DynamoDB command.
  return ensureTables(
    client as DynamoDBClient,
    [tables.patients ?? SEED_TABLES.patients, tables.visits ?? SEED_TABLES.visits].map((name) => ({
      name,
      partitionKey: 'id',
      stream: 'NEW_AND_OLD_IMAGES' as const,
    })),
  );
}

export interface SeedDynamoOptions extends PopulationOptions {
  client: DynamoDBDocumentClient;
  patientsTable?: string;
  visitsTable?: string;
  /** BatchWriteItem calls in flight at once (default 4). */
  concurrency?: number;
  /** Called after each batch: patients fully written, total patients, items written. */
  onProgress?: SeedProgress;
  retry?: RetryOptions;
}

export interface DynamoSeedCounts {
  patients: number;
  visits: number;
  batches: number;
  retries: number;
}

interface PendingPut {
  table: string;
  item: Record<string, unknown>;
  /** Set on a patient's last item, so progress counts whole patients. */
  completesPatient: boolean;
}

/**
 * Writes the domain records of a deterministic population (`patients` and `visits` items whose
 * ids join with the FHIR Patient identifiers) using BatchWriteItem, 25 items per call, retrying
 * UnprocessedItems with backoff. Items are keyed by deterministic ids, so re-seeding overwrites.
 *
 * @example
 * await seedDynamo({ client: DynamoDBDocumentClient.from(ddb), patients: 100, seed: 42 });
 */
export async function seedDynamo(options: SeedDynamoOptions): Promise<DynamoSeedCounts> {
  const resolved = resolvePopulationOptions(options);
  const retry = resolveRetry(options.retry);
  const patientsTable = options.patientsTable ?? SEED_TABLES.patients;
  const visitsTable = options.visitsTable ?? SEED_TABLES.visits;
  const counts: DynamoSeedCounts = { patients: 0, visits: 0, batches: 0, retries: 0 };
  let items = 0;

  function* batches(): Generator<PendingPut[]> {
    let batch: PendingPut[] = [];
    for (const { patient, visits } of generateDomainRecords(resolved)) {
      const puts: PendingPut[] = [
        { table: patientsTable, item: { ...patient }, completesPatient: visits.length === 0 },
        ...visits.map((visit, i) => ({
          table: visitsTable,
          item: { ...visit },
          completesPatient: i === visits.length - 1,
        })),
      ];
      for (const put of puts) {
        batch.push(put);
        if (batch.length === BATCH_LIMIT) {
          yield batch;
          batch = [];
        }
      }
    }
    if (batch.length) yield batch;
  }

  await forEachBounded(batches(), options.concurrency ?? 4, async (batch) => {
    counts.retries += await writeBatch(options.client, batch, retry);
    counts.batches++;
    for (const put of batch) {
      if (put.table === visitsTable) counts.visits++;
      if (put.completesPatient) counts.patients++;
    }
    items += batch.length;
    options.onProgress?.(counts.patients, resolved.patients, items);
  });
  return counts;
}

async function writeBatch(client: DynamoDBDocumentClient, batch: PendingPut[], retry: ResolvedRetry): Promise<number> {
  let requestItems: Record<string, Array<{ PutRequest: { Item: Record<string, unknown> } }>> = {};
  for (const { table, item } of batch) (requestItems[table] ??= []).push({ PutRequest: { Item: item } });
  for (let attempt = 1; ; attempt++) {
    const output = await client.send(new BatchWriteCommand({ RequestItems: requestItems }));
    const unprocessed = (output.UnprocessedItems ?? {}) as typeof requestItems;
    const left = Object.values(unprocessed).reduce((sum, requests) => sum + requests.length, 0);
    if (left === 0) return attempt - 1;
    if (attempt >= retry.attempts) throw new DynamoSeedError(left, attempt);
    requestItems = unprocessed;
    await sleep(backoffDelay(retry, attempt));
  }
}
