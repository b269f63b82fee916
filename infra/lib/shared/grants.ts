import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';

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
