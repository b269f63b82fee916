import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { pipeSchema, type PipeConfig, type TableConfig } from '../../../src/config/schema.js';
import { compileFilters } from '../../../src/event-pattern/index.js';

/** A pipe's `FilterCriteria`, CloudFormation-shaped. */
export interface PipeFilterCriteria {
  readonly filters: Array<{ readonly pattern: string }>;
}

/**
 * The pipe `FilterCriteria` for config patterns: `{Filters:[{Pattern: JSON.stringify(p)}]}` per
 * pattern, after validating each with the same compiler the local runtime uses (Pipes dialect).
 * Undefined when there are no patterns (everything passes, as locally).
 *
 * @example
 * pipeFilterCriteria([{ eventName: ['INSERT'] }]) // { filters: [{ pattern: '{"eventName":["INSERT"]}' }] }
 */
export function pipeFilterCriteria(
  patterns: readonly Record<string, unknown>[],
  where = 'pipe.filter',
): PipeFilterCriteria | undefined {
  try {
    compileFilters(patterns, { dialect: 'pipes' });
  } catch (error) {
    throw new Error(`${where}: ${(error as Error).message}`, { cause: error });
  }
  if (patterns.length === 0) return undefined;
  return { filters: patterns.map((pattern) => ({ pattern: JSON.stringify(pattern) })) };
}

/** The table's pipe config with defaults (a table without `pipe` still gets the default pipe). */
export function pipeConfigOf(table: TableConfig): PipeConfig {
  return table.pipe ?? pipeSchema.parse({});
}

/**
 * Least-privilege read of a DynamoDB stream for a pipe role, plus kms:Decrypt on the table's key.
 *
 * @example
 * streamSourceGrants(pipeRole, table.tableStreamArn!, table.encryptionKey);
 */
export function streamSourceGrants(role: iam.IGrantable, streamArn: string, tableKey?: kms.IKey): void {
  role.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams'],
      resources: [streamArn],
    }),
  );
  if (tableKey)
    role.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['kms:Decrypt', 'kms:DescribeKey'], resources: [tableKey.keyArn] }),
    );
}

/**
 * A captured table from its config entry: on-demand, CMK encryption, PITR, the configured stream
 * view and TTL attribute; physical name = config name (the name the local runtime uses).
 *
 * @example
 * const table = createStreamTable(this, 'Table', config.tables[0], key, RemovalPolicy.RETAIN);
 */
export function createStreamTable(
  scope: Construct,
  id: string,
  config: TableConfig,
  key: kms.IKey,
  removalPolicy: RemovalPolicy,
  overrides: Partial<dynamodb.TableProps> = {},
): dynamodb.Table {
  return new dynamodb.Table(scope, id, {
    tableName: config.name,
    partitionKey: { name: config.partitionKey, type: config.partitionKeyType as dynamodb.AttributeType },
    ...(config.sortKey
      ? { sortKey: { name: config.sortKey, type: config.sortKeyType as dynamodb.AttributeType } }
      : {}),
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
    encryptionKey: key,
    stream: config.stream as dynamodb.StreamViewType,
    ...(config.ttlAttribute ? { timeToLiveAttribute: config.ttlAttribute } : {}),
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    deletionProtection: removalPolicy === RemovalPolicy.RETAIN,
    removalPolicy,
    ...overrides,
  });
}
