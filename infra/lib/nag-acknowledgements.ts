import { CfnElement, Stack, Validations } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { IConstruct } from 'constructs';

/** Why each stack-wide cdk-nag finding is acceptable. Keys are rule ids; values the reason. */
export const STACK_ACKNOWLEDGEMENTS: Readonly<Record<string, string>> = {
  'HIPAA.Security-LambdaInsideVPC':
    'The functions call only AWS APIs (DynamoDB, S3, SQS, Step Functions, HealthLake, EventBridge) over TLS with SigV4; there is no private network resource to reach, and a VPC would add NAT cost without reducing exposure.',
  'AwsSolutions-L1':
    'Runtime is pinned to nodejs22.x on purpose: the bundles are built and tested for node22 (esbuild target) and upgrades are a deliberate, tested change.',
  'HIPAA.Security-IAMNoInlinePolicy':
    'Each inline policy belongs to exactly one role created here, holds explicit actions on named resources, and shares its lifecycle; a customer-managed policy would have identical content.',
  'HIPAA.Security-S3BucketReplicationEnabled':
    'Buckets are versioned and retained; cross-region replication is a disaster-recovery decision (a second region and key) left to the operator, documented in docs/DEPLOY.md.',
  'HIPAA.Security-DynamoDBInBackupPlan':
    'Every table has point-in-time recovery (35 days of continuous backups) and is retained on stack deletion; adding the tables to an AWS Backup plan is an organisation-level choice documented in docs/DEPLOY.md.',
};

/**
 * Why a function without reserved concurrency is acceptable (HIPAA.Security-LambdaConcurrency),
 * acknowledged on each such function.
 */
export const LAMBDA_CONCURRENCY_REASON =
  'opt-in: reserved units fail deploys on low-quota accounts; set aws.reservedConcurrency';

/**
 * Acknowledges cdk-nag findings on a construct (and everything under it), each with its reason.
 *
 * @example
 * acknowledge(role, { 'AwsSolutions-IAM5[Resource::*]': 'X-Ray has no resource-level permissions' });
 */
export function acknowledge(scope: IConstruct, findings: Readonly<Record<string, string>>): void {
  for (const [id, reason] of Object.entries(findings)) Validations.of(scope).acknowledge({ id, reason });
}

/**
 * How cdk-nag renders a `Fn::GetAtt` of a resource inside a finding id: `<LogicalId.Attr>`.
 *
 * @example
 * `AwsSolutions-IAM5[Resource::${nagRef(bucket)}/exports/*]`
 */
export function nagRef(construct: IConstruct, attribute = 'Arn'): string {
  const element = (construct.node.defaultChild ?? construct) as CfnElement;
  if (!CfnElement.isCfnElement(element)) throw new Error(`${construct.node.path} has no CloudFormation resource`);
  return `<${Stack.of(element).getLogicalId(element)}.${attribute}>`;
}

/**
 * How cdk-nag renders a bucket's ARN inside a finding id: `<LogicalId.Arn>` for a bucket created in
 * the app, the ARN itself for an imported one (`Bucket.fromBucketName`).
 *
 * @example
 * `AwsSolutions-IAM5[Resource::${bucketNagRef(bucket)}/exports/*]`
 */
export function bucketNagRef(bucket: s3.IBucket): string {
  const element = bucket.node.defaultChild ?? bucket;
  return CfnElement.isCfnElement(element) ? nagRef(bucket) : bucket.bucketArn;
}

/**
 * How cdk-nag renders a function's ARN inside a finding id: `<LogicalId.Arn>` for a function created in the
 * app, the resolved ARN for an imported one (`Function.fromFunctionAttributes`), pseudo parameters as `<AWS::Partition>`.
 *
 * @example
 * `AwsSolutions-IAM5[Resource::${functionNagRef(fn)}:*]`
 */
export function functionNagRef(fn: lambda.IFunction): string {
  const element = fn.node.defaultChild ?? fn;
  if (CfnElement.isCfnElement(element)) return nagRef(fn);
  const flatten = (node: unknown): string => {
    if (typeof node === 'string') return node;
    const object = node as Record<string, unknown>;
    if ('Fn::Join' in object) {
      const [separator, parts] = object['Fn::Join'] as [string, unknown[]];
      return parts.map(flatten).join(separator);
    }
    if ('Ref' in object) return `<${String(object.Ref)}>`;
    if ('Fn::GetAtt' in object) return `<${(object['Fn::GetAtt'] as string[]).join('.')}>`;
    return JSON.stringify(node);
  };
  return flatten(Stack.of(fn).resolve(fn.functionArn));
}

/**
 * Acknowledges the stack-wide findings ({@link STACK_ACKNOWLEDGEMENTS}).
 *
 * @example
 * acknowledgeNagFindings(stack);
 */
export function acknowledgeNagFindings(stack: Stack): void {
  acknowledge(stack, STACK_ACKNOWLEDGEMENTS);
}

/**
 * cdk-nag acknowledgements for object-prefix resources on a lake bucket (`<bucket>/<prefix>*`).
 *
 * @example
 * acknowledge(role, lakePrefixAcknowledgements(lake, ['fhir/']));
 */
export function lakePrefixAcknowledgements(bucket: s3.IBucket, prefixes: readonly string[]): Record<string, string> {
  return Object.fromEntries(
    prefixes.map((prefix) => [
      `AwsSolutions-IAM5[Resource::${bucketNagRef(bucket)}/${prefix}*]`,
      `Lake object keys are generated per batch (deterministic names); writes are scoped to the ${prefix} prefix of the lake bucket.`,
    ]),
  );
}
