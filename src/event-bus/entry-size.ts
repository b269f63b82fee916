import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';

/** PutEvents accepts at most this many entries per call. */
export const PUT_EVENTS_MAX_ENTRIES = 10;
/** PutEvents accepts at most this many bytes per call (and per entry). */
export const PUT_EVENTS_MAX_BYTES = 256 * 1024;

const utf8Bytes = (text: string | undefined) => (text === undefined ? 0 : Buffer.byteLength(text, 'utf8'));

/**
 * Size of a PutEvents entry as EventBridge computes it: UTF-8 bytes of Source, DetailType, Detail and
 * each Resource, plus 14 bytes when Time is set. `EventBusName` does not count.
 *
 * @example
 * putEventsEntrySize({ Source: 'a', DetailType: 'b', Detail: '{}', Time: new Date() }) // 18
 */
export function putEventsEntrySize(entry: PutEventsRequestEntry): number {
  let size = entry.Time === undefined ? 0 : 14;
  size += utf8Bytes(entry.Source) + utf8Bytes(entry.DetailType) + utf8Bytes(entry.Detail);
  for (const resource of entry.Resources ?? []) size += utf8Bytes(resource);
  return size;
}

/**
 * Splits entries (by index) into PutEvents calls of at most 10 entries and 256 KB, keeping order.
 * Every entry must already fit on its own.
 *
 * @example
 * chunkPutEventsEntries(sizes) // [[0, 1, …, 9], [10, …]]
 */
export function chunkPutEventsEntries(sizes: readonly number[], indices: readonly number[]): number[][] {
  const chunks: number[][] = [];
  let current: number[] = [];
  let bytes = 0;
  for (const index of indices) {
    const size = sizes[index] ?? 0;
    if (current.length === PUT_EVENTS_MAX_ENTRIES || (current.length > 0 && bytes + size > PUT_EVENTS_MAX_BYTES)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(index);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
