import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';

/** Explicit KMS actions (no `kms:*Key*`-style wildcards) for principals that write encrypted data. */
export const KMS_ENCRYPT_ACTIONS = ['kms:Encrypt', 'kms:GenerateDataKey', 'kms:Decrypt', 'kms:DescribeKey'] as const;
/** Explicit KMS actions for principals that only read encrypted data. */
export const KMS_DECRYPT_ACTIONS = ['kms:Decrypt', 'kms:DescribeKey'] as const;

/**
 * Creates a customer-managed KMS key with yearly rotation, usable by CloudWatch Logs (log groups
 * in this account/region), CloudWatch alarms (SNS topics encrypted with it) and EventBridge rule
 * dead-letter queues. Other principals get explicit grants on their roles.
 *
 * @example
 * const key = createDataKey(this, 'DataKey', { alias: 'tributary/data', removalPolicy: RemovalPolicy.RETAIN });
 */
export function createDataKey(
  scope: Construct,
  id: string,
  props: { alias?: string; removalPolicy?: RemovalPolicy } = {},
): kms.Key {
  const stack = Stack.of(scope);
  const key = new kms.Key(scope, id, {
    enableKeyRotation: true,
    rotationPeriod: Duration.days(365),
    description: 'Tributary customer-managed key for PHI at rest',
    ...(props.alias ? { alias: props.alias } : {}),
    removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    pendingWindow: Duration.days(30),
  });
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AllowCloudWatchLogs',
      principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
      actions: [
        'kms:Encrypt',
        'kms:Decrypt',
        'kms:ReEncryptFrom',
        'kms:ReEncryptTo',
        'kms:GenerateDataKey',
        'kms:DescribeKey',
      ],
      resources: ['*'],
      conditions: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:*`,
        },
      },
    }),
  );
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AllowCloudWatchAlarmsToEncryptedTopics',
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
    }),
  );
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AllowEventBridgeToEncryptedDeadLetterQueues',
      principals: [new iam.ServicePrincipal('events.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
    }),
  );
  return key;
}

/**
 * Grants explicit encrypt/decrypt actions on a key (CDK's `grantEncryptDecrypt` adds `kms:ReEncrypt*`
 * and `kms:GenerateDataKey*`, which cdk-nag flags as wildcards).
 *
 * @example
 * grantKeyUse(key, role, 'encrypt');
 */
export function grantKeyUse(key: kms.IKey, grantee: iam.IGrantable, use: 'encrypt' | 'decrypt'): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: [...(use === 'encrypt' ? KMS_ENCRYPT_ACTIONS : KMS_DECRYPT_ACTIONS)],
      resources: [key.keyArn],
    }),
  );
}
