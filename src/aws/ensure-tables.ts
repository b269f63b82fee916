import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceNotFoundException,
  UpdateTableCommand,
  waitUntilTableExists,
  type DynamoDBClient,
  type StreamViewType,
} from '@aws-sdk/client-dynamodb';

/** A table to create if missing. A config file's table entry (`TableConfig`) fits as it is. */
export interface TableSpec {
  name: string;
  partitionKey: string;
  partitionKeyType?: 'S' | 'N' | 'B';
  sortKey?: string | undefined;
  sortKeyType?: 'S' | 'N' | 'B';
  /** Stream view type; absent means no stream. */
  stream?: StreamViewType | undefined;
}

/** Options of {@link ensureTables}. */
export interface EnsureTablesOptions {
  /** Called for an existing table that had no stream and got one (`UpdateTable`), so the caller can say so. */
  onStreamEnabled?: (table: string, viewType: StreamViewType) => void;
}

/**
 * Creates each table that does not exist yet (on-demand, with its stream when one is named), waits until
 * it is ACTIVE, and returns the names it created. A table another process creates meanwhile is fine.
 * An existing table without a stream whose spec names one gets it (`UpdateTable`): a table made before Tributary
 * was pointed at it.
 *
 * @example
 * const created = await ensureTables(dynamodb, config.tables, { onStreamEnabled: (t) => console.error(`stream on ${t}`) });
 * await ensureTables(dynamodb, [{ name: 'ledger', partitionKey: 'pk', sortKey: 'sk' }]);
 */
export async function ensureTables(
  client: DynamoDBClient,
  tables: readonly TableSpec[],
  options: EnsureTablesOptions = {},
): Promise<string[]> {
  const created: string[] = [];
  for (const table of tables) {
    try {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: table.name }));
      if (table.stream && !Table?.StreamSpecification?.StreamEnabled) {
        await client.send(
          new UpdateTableCommand({
            TableName: table.name,
            StreamSpecification: { StreamEnabled: true, StreamViewType: table.stream },
          }),
        );
        await waitUntilTableExists({ client, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { TableName: table.name });
        options.onStreamEnabled?.(table.name, table.stream);
      }
      continue;
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException) && (error as Error).name !== 'ResourceNotFoundException')
        throw error;
    }
    const keys: Array<{ name: string; type: 'S' | 'N' | 'B'; role: 'HASH' | 'RANGE' }> = [
      { name: table.partitionKey, type: table.partitionKeyType ?? 'S', role: 'HASH' },
    ];
    if (table.sortKey) keys.push({ name: table.sortKey, type: table.sortKeyType ?? 'S', role: 'RANGE' });
    try {
      await client.send(
        new CreateTableCommand({
          TableName: table.name,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: keys.map((k) => ({ AttributeName: k.name, AttributeType: k.type })),
          KeySchema: keys.map((k) => ({ AttributeName: k.name, KeyType: k.role })),
          ...(table.stream ? { StreamSpecification: { StreamEnabled: true, StreamViewType: table.stream } } : {}),
        }),
      );
      created.push(table.name);
    } catch (error) {
      if ((error as Error).name !== 'ResourceInUseException') throw error;
    }
    await waitUntilTableExists({ client, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { TableName: table.name });
  }
  return created;
}
