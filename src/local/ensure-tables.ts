import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceNotFoundException,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import type { TableConfig } from '../config/schema.js';

/**
 * Creates each configured table that does not exist yet, with its stream, and returns the names created.
 *
 * @example
 * const created = await ensureTables(dynamodb, config.tables);
 */
export async function ensureTables(client: DynamoDBClient, tables: readonly TableConfig[]): Promise<string[]> {
  const created: string[] = [];
  for (const table of tables) {
    try {
      await client.send(new DescribeTableCommand({ TableName: table.name }));
      continue;
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
    const keys: Array<{ name: string; type: 'S' | 'N' | 'B'; role: 'HASH' | 'RANGE' }> = [
      { name: table.partitionKey, type: table.partitionKeyType, role: 'HASH' },
    ];
    if (table.sortKey) keys.push({ name: table.sortKey, type: table.sortKeyType, role: 'RANGE' });
    await client.send(
      new CreateTableCommand({
        TableName: table.name,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: keys.map((k) => ({ AttributeName: k.name, AttributeType: k.type })),
        KeySchema: keys.map((k) => ({ AttributeName: k.name, KeyType: k.role })),
        StreamSpecification: { StreamEnabled: true, StreamViewType: table.stream },
      }),
    );
    created.push(table.name);
  }
  return created;
}
