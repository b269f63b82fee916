import type { ProxyContext } from './proxy-context.js';
import { buildStreamRecord } from './stream-record.js';
import type { RecoverySummary, StreamInfo, UnsequencedStreamRecord, WireItem, WriteIntent } from './types.js';
import { isOk } from './wire-response.js';

/** One item a write is about to change, on a table with an enabled stream, with its image before. */
export interface IntentTarget {
  stream: StreamInfo;
  key: WireItem;
  oldImage: WireItem | undefined;
}

/** A write in flight: its stored intent and the stream its record goes to. */
export interface PendingWrite {
  intent: WriteIntent;
  stream: StreamInfo;
}

/**
 * The stream record an intent resolves to, given the item as it is now: `undefined` when the item
 * still equals the intent's old image (the write failed, was not applied, or changed nothing).
 * The record carries the time the write started, as the live record would have.
 *
 * @example
 * const record = recordOfIntent(stream, intent, currentItem, 'us-east-1');
 */
export function recordOfIntent(
  stream: StreamInfo,
  intent: WriteIntent,
  currentItem: WireItem | undefined,
  region: string,
): UnsequencedStreamRecord | undefined {
  return buildStreamRecord(
    stream,
    { oldImage: intent.oldImage, newImage: currentItem },
    region,
    new Date(intent.createdMs),
  );
}

/**
 * The write-ahead protocol that makes an item write and its stream record atomic across crashes:
 * {@link WriteIntents.begin} stores an intent (stream, key, old image, time) per item before the
 * write is forwarded; {@link WriteIntents.settle} reads the items after it and, in one SQLite
 * transaction, appends the records of the items that changed and deletes the intents. A crash in
 * between leaves the intents, which {@link recoverPendingWrites} settles on the next start, before
 * the endpoint serves any request. Callers hold the tables' locks from begin to settle, so intents
 * are settled in write order.
 *
 * @example
 * const intents = new WriteIntents(context);
 * const pending = intents.begin(targets);
 * const response = await forward(context, request);
 * await intents.settle(pending);
 */
export class WriteIntents {
  public constructor(private readonly context: ProxyContext) {}

  /** Stores one intent per target, in one transaction, and returns them in the targets' order. */
  public begin(targets: readonly IntentTarget[], now = Date.now()): PendingWrite[] {
    const stored = this.context.store.recordIntents(
      targets.map((target) => ({
        streamArn: target.stream.streamArn,
        key: target.key,
        oldImage: target.oldImage,
        createdMs: now,
      })),
    );
    return stored.map((intent, index) => ({ intent, stream: (targets[index] as IntentTarget).stream }));
  }

  /**
   * Reads each item now, appends the records of those that changed and deletes the intents. Runs
   * whatever the write answered: a failed batch may still have applied some of its items. An item
   * that cannot be read keeps its intent, settled by its next write or the next start.
   */
  public async settle(pending: readonly PendingWrite[]): Promise<void> {
    const reads = await Promise.all(pending.map((write) => readItem(this.context, write)));
    const settled: Array<{ intent: WriteIntent; record?: UnsequencedStreamRecord | undefined }> = [];
    const touched = new Set<string>();
    pending.forEach((write, index) => {
      const read = reads[index];
      if (!read || read.kind !== 'item') return;
      const record = recordOfIntent(write.stream, write.intent, read.item, this.context.region);
      settled.push({ intent: write.intent, record });
      if (record) touched.add(write.stream.tableName);
    });
    this.context.store.settleIntents(settled);
    for (const tableName of touched) this.context.notify(tableName);
  }
}

/**
 * Settles the intents a crash left behind, oldest first: for each, the item is read now and, if it
 * differs from the intent's old image, the missing record is appended (old image from the intent,
 * new image the item now, time the intent's). Call it before the endpoint serves requests, so a
 * client's retry of the interrupted write finds the record already there and changes nothing.
 *
 * @example
 * const summary = await recoverPendingWrites(context); // { appended: 1, unchanged: 0, dropped: 0, kept: 0 }
 */
export async function recoverPendingWrites(context: ProxyContext): Promise<RecoverySummary> {
  const summary: RecoverySummary = { appended: 0, unchanged: 0, dropped: 0, kept: 0 };
  for (const intent of context.store.pendingIntents()) {
    const stream = context.store.stream(intent.streamArn);
    // A disabled stream's shard is closed: its table was deleted or its stream turned off since.
    if (!stream || !stream.enabled) {
      context.store.settleIntents([{ intent }]);
      summary.dropped += 1;
      continue;
    }
    const read = await readItem(context, { intent, stream });
    if (read.kind === 'gone') {
      context.store.settleIntents([{ intent }]);
      summary.dropped += 1;
    } else if (read.kind === 'error') {
      summary.kept += 1;
    } else {
      const record = recordOfIntent(stream, intent, read.item, context.region);
      context.store.settleIntents([{ intent, record }]);
      summary[record ? 'appended' : 'unchanged'] += 1;
    }
  }
  return summary;
}

type ItemRead = { kind: 'item'; item: WireItem | undefined } | { kind: 'gone' } | { kind: 'error' };

async function readItem(context: ProxyContext, write: PendingWrite): Promise<ItemRead> {
  const result = await context.backend.call<{ Item?: WireItem; __type?: string }>('GetItem', {
    TableName: write.stream.tableName,
    Key: write.intent.key,
    ConsistentRead: true,
  });
  if (isOk(result)) return { kind: 'item', item: result.body.Item };
  return result.body.__type?.endsWith('#ResourceNotFoundException') ? { kind: 'gone' } : { kind: 'error' };
}
