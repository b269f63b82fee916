import { randomBytes } from 'node:crypto';
import type { BusEvent } from '../../ports/event-bus.js';
import type { ObjectStore } from '../../ports/object-store.js';

/**
 * The events of an `arn:aws:states:::events:putEvents` task's parameters (`Entries` with `Source`, `DetailType` and
 * `Detail` as JSON text or an object), as the bus port takes them.
 *
 * @example
 * putEventsEntries({ Entries: [{ Source: 'tributary', DetailType: 'X', Detail: '{"a":1}' }] }) // [{ source: 'tributary', detailType: 'X', detail: { a: 1 } }]
 */
export function putEventsEntries(parameters: unknown): BusEvent[] {
  const entries = ((parameters as { Entries?: unknown[] }).Entries ?? []) as Array<{
    Source: string;
    DetailType: string;
    Detail: unknown;
  }>;
  return entries.map((entry) => ({
    source: entry.Source,
    detailType: entry.DetailType,
    detail: typeof entry.Detail === 'string' ? (JSON.parse(entry.Detail) as unknown) : entry.Detail,
  }));
}

/** A `putEvents` task's answer: one fresh event id per entry. */
export function putEventsResult(events: readonly BusEvent[], failed = 0): unknown {
  return { FailedEntryCount: failed, Entries: events.map(() => ({ EventId: randomBytes(16).toString('hex') })) };
}

/**
 * The `arn:aws:states:::s3:getObject` task (the ItemReader's) over local buckets: the object's bytes, or `S3.NoSuchKey`.
 *
 * @example
 * const getObject = s3GetObjectTask((bucket) => new DirectoryObjectStore(join(dir, 's3', bucket)));
 */
export function s3GetObjectTask(bucket: (name: string) => ObjectStore): (parameters: unknown) => Promise<Uint8Array> {
  return async (parameters) => {
    const { Bucket, Key } = parameters as { Bucket: string; Key: string };
    const body = await bucket(Bucket).get(Key);
    if (!body) throw Object.assign(new Error(`no object ${Key} in bucket ${Bucket}`), { name: 'S3.NoSuchKey' });
    return body;
  };
}

/**
 * The `arn:aws:states:::s3:putObject` task (the ResultWriter's) over local buckets.
 *
 * @example
 * const putObject = s3PutObjectTask((bucket) => new DirectoryObjectStore(join(dir, 's3', bucket)));
 */
export function s3PutObjectTask(bucket: (name: string) => ObjectStore): (parameters: unknown) => Promise<unknown> {
  return async (parameters) => {
    const { Bucket, Key, Body } = parameters as { Bucket: string; Key: string; Body: string };
    await bucket(Bucket).put(Key, Body);
    return { ETag: `"${randomBytes(16).toString('hex')}"` };
  };
}
