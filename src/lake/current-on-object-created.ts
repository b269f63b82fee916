import type { ObjectStore } from '../ports/object-store.js';
import { materialiseCurrentState, type CurrentStateUpdate } from './current-state.js';

/** What the current-state writer did for one S3 "Object Created" event: names and counts only. */
export interface ObjectCreatedCurrentResult {
  /** The change file's key relative to the lake root. */
  key?: string;
  table?: string;
  /** Why nothing was written (not an S3 Object Created event, not a change file, or its delta exists). */
  skipped?: string;
  update?: CurrentStateUpdate;
}

/** Dependencies of {@link updateCurrentOnObjectCreated}. */
export interface ObjectCreatedCurrentDeps {
  /** The lake (rooted at `prefix`). */
  store: ObjectStore;
  /** The lake's key prefix in the bucket (`LAKE_PREFIX`, '' or ending in '/'), stripped from the event's key. */
  prefix?: string;
  /** Local scratch directory (Lambda: /tmp). */
  scratchDir?: string;
}

/** True for an EventBridge S3 event (`source: aws.s3`). */
export function isS3Event(event: unknown): boolean {
  return (event as { source?: unknown } | undefined)?.source === 'aws.s3';
}

/**
 * `current/<table>/` on AWS: an EventBridge S3 "Object Created" event for a change file Firehose delivered,
 * `changes/<table>/<partitions>/<name>.ndjson.gz`, gets its Parquet delta `current/<table>/<partitions>/<name>.parquet`
 * ({@link materialiseCurrentState} for that one file: O(1) files per event, never a listing of the table). Any
 * other key changes nothing. The delta's key comes from the file name, so a replay (EventBridge retries, a second
 * event for the same key) skips or rewrites the same object. EventBridge gives the key unencoded.
 *
 * @example
 * await updateCurrentOnObjectCreated(event, { store: lake });
 */
export async function updateCurrentOnObjectCreated(
  event: unknown,
  deps: ObjectCreatedCurrentDeps,
): Promise<ObjectCreatedCurrentResult> {
  const e = event as { 'detail-type'?: unknown; detail?: { object?: { key?: unknown } } } | undefined;
  const raw = e?.detail?.object?.key;
  if (!isS3Event(event) || e?.['detail-type'] !== 'Object Created' || typeof raw !== 'string')
    return { skipped: 'not an S3 Object Created event' };
  const prefix = deps.prefix ?? '';
  if (!raw.startsWith(prefix)) return { skipped: 'outside the lake prefix' };
  const key = raw.slice(prefix.length);
  const match = /^changes\/([^/]+)\/.+\.ndjson\.gz$/.exec(key);
  if (!match) return { key, skipped: 'not a change file' };
  let table: string;
  try {
    table = decodeURIComponent(match[1]!); // the layout's sanitised segment
  } catch {
    return { key, skipped: 'not a change file' };
  }
  const update = await materialiseCurrentState({
    store: deps.store,
    table,
    changeKeys: [key],
    ...(deps.scratchDir ? { scratchDir: deps.scratchDir } : {}),
  });
  return { key, table, update, ...(update.files === 0 ? { skipped: 'delta exists' } : {}) };
}
