import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { grantKeyUse } from './encryption.js';

/**
 * ARN of the objects under a prefix. The trailing `*` is in the resource, never in an action.
 *
 * @example
 * bucketObjectsArn(bucket, 'fhir/') // arn:aws:s3:::<bucket>/fhir/*
 */
export function bucketObjectsArn(bucket: s3.IBucket, prefix: string): string {
  return bucket.arnForObjects(`${prefix}*`);
}

/**
 * Grants write (and read-back for idempotent rewrites) on lake prefixes with explicit actions;
 * `grantReadWrite` would add `s3:GetObject*`, `s3:List*`, `s3:DeleteObject*` wildcards.
 *
 * @example
 * grantLakeWrite(lake, role, ['fhir/', '_errors/']);
 */
export function grantLakeWrite(bucket: s3.IBucket, grantee: iam.IGrantable, prefixes: readonly string[]): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['s3:PutObject', 's3:GetObject', 's3:AbortMultipartUpload'],
      resources: prefixes.map((prefix) => bucketObjectsArn(bucket, prefix)),
    }),
  );
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }),
  );
}

/**
 * Grants `sqs:SendMessage` on one queue, and encrypt use of its KMS key when it has one, with explicit actions;
 * `grantSendMessages` would add `kms:ReEncrypt*` and `kms:GenerateDataKey*` wildcards.
 *
 * @example
 * grantQueueSend(recheckQueue, runLedgerRole);
 */
export function grantQueueSend(queue: sqs.IQueue, grantee: iam.IGrantable): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [queue.queueArn] }),
  );
  if (queue.encryptionMasterKey) grantKeyUse(queue.encryptionMasterKey, grantee, 'encrypt');
}
