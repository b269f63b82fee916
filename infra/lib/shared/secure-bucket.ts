import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** Props of {@link SecureBucket}. Every optional prop documents its default. */
export interface SecureBucketProps {
  /** Customer-managed key for SSE-KMS (bucket keys on, to cut KMS requests). */
  readonly encryptionKey: kms.IKey;
  /** Bucket receiving this bucket's server access logs. */
  readonly serverAccessLogsBucket: s3.IBucket;
  /**
   * Prefix of the access logs in the log bucket.
   *
   * @default '<construct id>/'
   */
  readonly serverAccessLogsPrefix?: string;
  /**
   * Extra lifecycle rules.
   *
   * @default - none besides expiring noncurrent versions after 90 days and aborting incomplete uploads after 7 days
   */
  readonly lifecycleRules?: s3.LifecycleRule[];
  /**
   * Removal policy of the bucket.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Overrides of the bucket props, applied last (e.g. `bucketName`, more lifecycle rules). Overriding
   * encryption, public access or TLS weakens the defaults and is reported by cdk-nag.
   *
   * @default - none
   */
  readonly bucketProps?: Partial<s3.BucketProps>;
}

/**
 * An S3 bucket secure by default: Block Public Access, TLS-only policy, versioning, SSE-KMS with a
 * customer-managed key, server access logs, bucket-owner-enforced ownership, lifecycle hygiene.
 *
 * @example
 * const lake = new SecureBucket(this, 'Lake', { encryptionKey: key, serverAccessLogsBucket: logs }).bucket;
 */
export class SecureBucket extends Construct {
  public readonly bucket: s3.Bucket;

  public constructor(scope: Construct, id: string, props: SecureBucketProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: props.encryptionKey,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: props.serverAccessLogsBucket,
      serverAccessLogsPrefix: props.serverAccessLogsPrefix ?? `${id}/`,
      lifecycleRules: [
        {
          id: 'noncurrent-versions',
          noncurrentVersionExpiration: Duration.days(90),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
        ...(props.lifecycleRules ?? []),
      ],
      removalPolicy,
      ...props.bucketProps,
    });
  }
}

/**
 * The bucket that receives server access logs. S3 log delivery supports SSE-S3 only, so this one
 * bucket is SSE-S3 (documented cdk-nag acknowledgement in the stack).
 *
 * @example
 * const logs = createAccessLogBucket(this, 'AccessLogs', RemovalPolicy.RETAIN);
 */
export function createAccessLogBucket(
  scope: Construct,
  id: string,
  removalPolicy: RemovalPolicy = RemovalPolicy.RETAIN,
): s3.Bucket {
  return new s3.Bucket(scope, id, {
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    versioned: true,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
    lifecycleRules: [
      { id: 'expire-access-logs', expiration: Duration.days(365), noncurrentVersionExpiration: Duration.days(30) },
    ],
    removalPolicy,
  });
}
