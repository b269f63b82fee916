import type { Readable } from 'node:stream';

/** One object in a listing. */
export interface ObjectInfo {
  /** Key relative to the store's root (no leading slash). */
  key: string;
  /** Size in bytes. */
  size: number;
}

/** Body accepted by {@link ObjectStore.put}. A stream is consumed once. */
export type ObjectBody = Uint8Array | string | Readable | AsyncIterable<Uint8Array>;

/**
 * A bucket-like store of immutable objects under string keys.
 *
 * Locally a directory ({@link DirectoryObjectStore}); in AWS one S3 bucket and an
 * optional prefix. A `put` is atomic: readers see the old object or the new one,
 * never a partial file. Writing the same key again overwrites, which is what makes
 * deterministic keys idempotent under retries.
 */
export interface ObjectStore {
  /** Human-readable location, e.g. `file:///…/lake` or `s3://bucket/prefix`. */
  readonly url: string;
  /** Writes an object atomically. */
  put(key: string, body: ObjectBody, options?: { contentType?: string }): Promise<void>;
  /** Reads a whole object, or `undefined` when the key does not exist. */
  get(key: string): Promise<Uint8Array | undefined>;
  /** Streams an object. Throws {@link ObjectNotFoundError} when missing. */
  getStream(key: string): Promise<Readable>;
  /** Lists objects whose key starts with `prefix`, in key order. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /** Deletes an object; deleting a missing key is not an error. */
  delete(key: string): Promise<void>;
}

/** Raised when an object does not exist. */
export class ObjectNotFoundError extends Error {
  public override readonly name = 'ObjectNotFoundError';
  public constructor(public readonly key: string) {
    super(`object not found: ${key}`);
  }
}
