import { BatchWriteCommand, DeleteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** Counts of the demo workload. */
export interface DemoWorkload {
  inserts: number;
  updates: number;
  deletes: number;
}

/**
 * Writes the SYSTEM.md §1 workload to a `visits` table through the real SDK: inserts shaped
 * `{id, siteId, name, valueOne, valueTwo, createdAtTime}`, then updates and deletes of some of them.
 * Deterministic: the same call writes the same items.
 *
 * @example
 * const counts = await writeDemoVisits(documents, 'visits', { items: 300 });
 */
export async function writeDemoVisits(
  client: DynamoDBDocumentClient,
  table: string,
  options: { items: number; startTime?: number; patientIds?: string[] },
): Promise<DemoWorkload> {
  const start = options.startTime ?? Date.UTC(2024, 0, 1);
  const reasons = ['check-up', 'follow-up', 'lab draw', 'vaccination', 'consultation'];
  const items = Array.from({ length: options.items }, (_, i) => ({
    id: `visit-${String(i).padStart(5, '0')}`,
    siteId: String((i % 4) + 1),
    name: reasons[i % reasons.length]!,
    valueOne: 100 + i,
    valueTwo: 6789 + i * 3,
    // Spread over ~10 days so several day partitions appear.
    createdAtTime: start + i * 47 * 60 * 1000,
    ...(options.patientIds?.length ? { patientId: options.patientIds[i % options.patientIds.length] } : {}),
  }));
  for (let i = 0; i < items.length; i += 25) {
    await client.send(
      new BatchWriteCommand({
        RequestItems: { [table]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) },
      }),
    );
  }
  let updates = 0;
  for (let i = 0; i < items.length; i += 3) {
    await client.send(
      new UpdateCommand({
        TableName: table,
        Key: { id: items[i]!.id },
        UpdateExpression: 'SET valueTwo = valueTwo + :one',
        ExpressionAttributeValues: { ':one': 1 },
      }),
    );
    updates += 1;
  }
  let deletes = 0;
  for (let i = 0; i < items.length; i += 10) {
    await client.send(new DeleteCommand({ TableName: table, Key: { id: items[i]!.id } }));
    deletes += 1;
  }
  return { inserts: items.length, updates, deletes };
}
