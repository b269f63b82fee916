import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import type { ObjectBody, ObjectInfo, ObjectStore } from '../../../src/ports/object-store.js';
import { ObjectNotFoundError } from '../../../src/ports/object-store.js';

/** An in-memory ObjectStore that records every put, for tests. */
export class MemoryObjectStore implements ObjectStore {
  public readonly url = 'memory://test';
  public readonly objects = new Map<string, Uint8Array>();
  public readonly puts: string[] = [];
  public failNextPut = false;

  public async put(key: string, body: ObjectBody): Promise<void> {
    if (this.failNextPut) {
      this.failNextPut = false;
      throw new Error('simulated put failure');
    }
    if (!(body instanceof Uint8Array)) throw new Error('test store accepts bytes only');
    this.puts.push(key);
    this.objects.set(key, body);
  }

  public async get(key: string): Promise<Uint8Array | undefined> {
    return this.objects.get(key);
  }

  public async getStream(key: string): Promise<Readable> {
    const body = this.objects.get(key);
    if (body === undefined) throw new ObjectNotFoundError(key);
    return Readable.from([body]);
  }

  public async *list(prefix: string): AsyncIterable<ObjectInfo> {
    for (const key of [...this.objects.keys()].sort())
      if (key.startsWith(prefix)) yield { key, size: this.objects.get(key)?.byteLength ?? 0 };
  }

  public async delete(key: string): Promise<void> {
    this.objects.delete(key);
  }

  /** Lines of a gzip NDJSON object. */
  public lines(key: string): string[] {
    const body = this.objects.get(key);
    if (body === undefined) throw new ObjectNotFoundError(key);
    return gunzipSync(body)
      .toString('utf8')
      .split('\n')
      .filter((line) => line !== '');
  }
}
