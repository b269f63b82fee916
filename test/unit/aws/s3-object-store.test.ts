import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { S3ObjectStore } from '../../../src/aws/index.js';
import { ObjectNotFoundError } from '../../../src/ports/object-store.js';

const s3 = mockClient(S3Client);

describe('S3ObjectStore', () => {
  beforeEach(() => s3.reset());

  it('puts bytes under the prefix with SSE-KMS, and lists keys relative to the prefix across pages', async () => {
    s3.on(PutObjectCommand).resolves({});
    s3.on(ListObjectsV2Command)
      .resolvesOnce({ Contents: [{ Key: 'lake/a', Size: 1 }], IsTruncated: true, NextContinuationToken: 't' })
      .resolvesOnce({ Contents: [{ Key: 'lake/b', Size: 2 }], IsTruncated: false });
    const store = new S3ObjectStore(new S3Client({ region: 'eu-west-2' }), 'bucket', 'lake/', 'key-arn');
    await store.put('a', Buffer.from('x'), { contentType: 'application/gzip' });
    expect(s3.commandCalls(PutObjectCommand)[0]!.args[0].input).toMatchObject({
      Bucket: 'bucket',
      Key: 'lake/a',
      ContentType: 'application/gzip',
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: 'key-arn',
    });
    const listed = [];
    for await (const info of store.list('')) listed.push(info);
    expect(listed).toEqual([
      { key: 'a', size: 1 },
      { key: 'b', size: 2 },
    ]);
    expect(s3.commandCalls(ListObjectsV2Command)[1]!.args[0].input.ContinuationToken).toBe('t');
  });

  it('streams go up as a multipart upload, aborted when a part fails', async () => {
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'u1' });
    s3.on(UploadPartCommand).rejects(new Error('network'));
    s3.on(AbortMultipartUploadCommand).resolves({});
    const store = new S3ObjectStore(new S3Client({ region: 'eu-west-2' }), 'bucket');
    await expect(store.put('big', Readable.from([Buffer.from('abc')]))).rejects.toThrow('network');
    expect(s3.commandCalls(AbortMultipartUploadCommand)[0]!.args[0].input).toMatchObject({
      Key: 'big',
      UploadId: 'u1',
    });
    expect(s3.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
  });

  it('a missing object is undefined from get and ObjectNotFoundError from getStream', async () => {
    s3.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'gone', $metadata: {} }));
    const store = new S3ObjectStore(new S3Client({ region: 'eu-west-2' }), 'bucket');
    expect(await store.get('nope')).toBeUndefined();
    await expect(store.getStream('nope')).rejects.toBeInstanceOf(ObjectNotFoundError);
  });
});
