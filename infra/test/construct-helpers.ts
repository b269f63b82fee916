import { App, Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { createAccessLogBucket, SecureBucket } from '../lib/shared/secure-bucket.js';

/** A bare stack with a key and a lake bucket, for testing one construct in isolation. */
export function constructStack(): { app: App; stack: Stack; key: kms.Key; lake: s3.Bucket; accessLogs: s3.Bucket } {
  const app = new App();
  const stack = new Stack(app, 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  const accessLogs = createAccessLogBucket(stack, 'AccessLogs');
  const lake = new SecureBucket(stack, 'Lake', { encryptionKey: key, serverAccessLogsBucket: accessLogs }).bucket;
  return { app, stack, key, lake, accessLogs };
}
