import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { ObjectNotFoundError, type ObjectBody, type ObjectInfo, type ObjectStore } from '../ports/object-store.js';

const PART_SIZE = 8 * 1024 * 1024;

/**
 * {@link ObjectStore} over one S3 bucket (and optional key prefix), for the Lambda handlers.
 * Buffers and strings go up with PutObject; streams with a multipart upload of 8 MiB parts (memory stays flat).
 *
 * @example
 * const store = new S3ObjectStore(new S3Client({}), 'tributary-exports');
 */
export class S3ObjectStore implements ObjectStore {
  public readonly url: string;

  public constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly prefix = '',
    private readonly kmsKeyId?: string,
  ) {
    this.url = `s3://${bucket}/${prefix}`;
  }

  public async put(key: string, body: ObjectBody, options?: { contentType?: string }): Promise<void> {
    const Key = this.prefix + key;
    const common = {
      Bucket: this.bucket,
      Key,
      ...(options?.contentType ? { ContentType: options.contentType } : {}),
      ...(this.kmsKeyId ? { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: this.kmsKeyId } : {}),
    };
    if (typeof body === 'string' || body instanceof Uint8Array) {
      await this.client.send(new PutObjectCommand({ ...common, Body: body }));
      return;
    }
    const { UploadId } = await this.client.send(new CreateMultipartUploadCommand(common));
    const parts: { ETag: string | undefined; PartNumber: number }[] = [];
    try {
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      const upload = async () => {
        const PartNumber = parts.length + 1;
        const out = await this.client.send(
          new UploadPartCommand({
            Bucket: this.bucket,
            Key,
            UploadId,
            PartNumber,
            Body: Buffer.concat(pending, pendingBytes),
          }),
        );
        parts.push({ ETag: out.ETag, PartNumber });
        pending = [];
        pendingBytes = 0;
      };
      for await (const chunk of body as AsyncIterable<Uint8Array>) {
        pending.push(Buffer.from(chunk));
        pendingBytes += chunk.length;
        if (pendingBytes >= PART_SIZE) await upload();
      }
      if (pendingBytes > 0 || parts.length === 0) await upload();
      await this.client.send(
        new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId, MultipartUpload: { Parts: parts } }),
      );
    } catch (error) {
      await this.client
        .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId }))
        .catch(() => undefined);
      throw error;
    }
  }

  public async get(key: string): Promise<Uint8Array | undefined> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
      return out.Body ? await out.Body.transformToByteArray() : new Uint8Array();
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  public async getStream(key: string): Promise<Readable> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
      if (!out.Body) return Readable.from([]);
      return out.Body as Readable;
    } catch (error) {
      if (isMissing(error)) throw new ObjectNotFoundError(key);
      throw error;
    }
  }

  public async *list(prefix: string): AsyncIterable<ObjectInfo> {
    let token: string | undefined;
    do {
      const out = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: this.prefix + prefix,
          ...(token ? { ContinuationToken: token } : {}),
        }),
      );
      for (const object of out.Contents ?? []) {
        if (object.Key) yield { key: object.Key.slice(this.prefix.length), size: object.Size ?? 0 };
      }
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
  }

  public async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
  }
}

function isMissing(error: unknown): boolean {
  const name = (error as { name?: string }).name;
  return error instanceof NoSuchKey || name === 'NoSuchKey' || name === 'NotFound';
}
