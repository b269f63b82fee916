import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { LedgerItem, LedgerStore, PutCondition } from './ledger-store.js';

/**
 * {@link LedgerStore} over a DynamoDB table with `pk` (S) and `sk` (S): AWS, or the embedded endpoint.
 * Reads are strongly consistent; conditions become one `ConditionExpression`.
 *
 * @example
 * const store = new DynamoDbLedgerStore(new DynamoDBClient({ endpoint }), 'tributary-export-ledger');
 */
export class DynamoDbLedgerStore implements LedgerStore {
  private readonly doc: DynamoDBDocumentClient;

  public constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  public async get(pk: string, sk: string): Promise<LedgerItem | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { pk, sk }, ConsistentRead: true }),
    );
    return out.Item as LedgerItem | undefined;
  }

  public async put(item: LedgerItem, anyOf?: readonly PutCondition[]): Promise<boolean> {
    try {
      await this.doc.send(new PutCommand({ TableName: this.tableName, Item: item, ...conditionExpression(anyOf) }));
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  public async delete(pk: string, sk: string, anyOf?: readonly PutCondition[]): Promise<boolean> {
    try {
      await this.doc.send(
        new DeleteCommand({ TableName: this.tableName, Key: { pk, sk }, ...conditionExpression(anyOf) }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  public async query(pk: string): Promise<LedgerItem[]> {
    const items: LedgerItem[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': 'pk' },
          ExpressionAttributeValues: { ':pk': pk },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      items.push(...((out.Items ?? []) as LedgerItem[]));
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }
}

function conditionExpression(anyOf: readonly PutCondition[] | undefined) {
  if (!anyOf || anyOf.length === 0) return {};
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const parts = anyOf.map((condition, index) => {
    if (condition.kind === 'absent') {
      names['#pk'] = 'pk';
      return 'attribute_not_exists(#pk)';
    }
    names[`#a${index}`] = condition.attribute;
    values[`:v${index}`] = condition.value;
    return condition.kind === 'equals' ? `#a${index} = :v${index}` : `#a${index} < :v${index}`;
  });
  return {
    ConditionExpression: parts.map((p) => `(${p})`).join(' OR '),
    ExpressionAttributeNames: names,
    ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
  };
}

function isConditionFailure(error: unknown): boolean {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error as { name?: string }).name === 'ConditionalCheckFailedException'
  );
}
