import type { BufferedResponse } from './dynalite-backend.js';
import { forward, type ClientRequest, type ProxyContext } from './proxy-context.js';
import { buildStreamRecord, canonicalJson, keyOf } from './stream-record.js';
import type { StreamInfo, WireItem } from './types.js';
import { isOk } from './wire-response.js';

/** One item a write touches, on a table with a stream. */
interface CapturedTarget {
  stream: StreamInfo;
  key: WireItem;
  oldImage?: WireItem | undefined;
}

type WriteRequest = { PutRequest?: { Item?: WireItem }; DeleteRequest?: { Key?: WireItem } };

/**
 * Turns writes to tables with an enabled stream into stream records: per table, one write at a
 * time, it reads the item before (consistent GetItem), forwards the client's request unchanged,
 * reads the item after, and appends a record when the write succeeded and changed the item.
 * Writes to tables without a stream are forwarded as they are (under the same per-table lock).
 *
 * @example
 * const capture = new WriteCapture(context);
 * const response = await capture.singleItemWrite(request, 'PutItem');
 */
export class WriteCapture {
  public constructor(private readonly context: ProxyContext) {}

  /** PutItem, UpdateItem or DeleteItem. */
  public async singleItemWrite(
    request: ClientRequest,
    operation: 'PutItem' | 'UpdateItem' | 'DeleteItem',
  ): Promise<BufferedResponse> {
    const tableName = request.input['TableName'];
    if (typeof tableName !== 'string') return forward(this.context, request);
    // Tables without a stream are locked too, so emulated transactions stay isolated from them.
    return this.context.tableLocks.run([tableName], async () => {
      // Re-read under the lock: an UpdateTable may have changed the stream meanwhile.
      const stream = this.context.store.enabledStream(tableName);
      const source = (operation === 'PutItem' ? request.input['Item'] : request.input['Key']) as WireItem | undefined;
      const key = stream && isItem(source) ? keyOf(source, stream.keySchema) : undefined;
      if (!stream || !key) return forward(this.context, request);
      return this.captured(request, [{ stream, key }]);
    });
  }

  /** BatchWriteItem: records for every processed request on a table with a stream. */
  public async batchWrite(request: ClientRequest): Promise<BufferedResponse> {
    const requestItems = request.input['RequestItems'];
    if (!requestItems || typeof requestItems !== 'object') return forward(this.context, request);
    const tableNames = Object.keys(requestItems);
    return this.context.tableLocks.run(tableNames, async () => {
      const targets: CapturedTarget[] = [];
      for (const tableName of tableNames) {
        const stream = this.context.store.enabledStream(tableName);
        const writes = (requestItems as Record<string, unknown>)[tableName];
        if (!stream || !Array.isArray(writes)) continue;
        for (const write of writes as WriteRequest[]) {
          const source = write?.PutRequest?.Item ?? write?.DeleteRequest?.Key;
          const key = isItem(source) ? keyOf(source, stream.keySchema) : undefined;
          // A malformed request fails validation in dynalite; let it answer.
          if (!key) return forward(this.context, request);
          targets.push({ stream, key });
        }
      }
      if (targets.length === 0) return forward(this.context, request);
      return this.captured(request, targets, (response) => unprocessedKeys(response, targets));
    });
  }

  /** Reads old images, forwards the request, reads new images and appends records. */
  private async captured(
    request: ClientRequest,
    targets: CapturedTarget[],
    unprocessed: (response: BufferedResponse) => Set<string> = () => new Set(),
  ): Promise<BufferedResponse> {
    const before = await Promise.all(targets.map((target) => this.readItem(target)));
    // If the key cannot even be read, the write will fail too; let dynalite answer it.
    if (before.some((read) => read === 'error')) return forward(this.context, request);
    targets.forEach((target, index) => {
      target.oldImage = before[index] as WireItem | undefined;
    });

    const response = await forward(this.context, request);
    if (!isOk(response)) return response;

    const skipped = unprocessed(response);
    const done = targets.filter((target) => !skipped.has(targetId(target.stream.tableName, target.key)));
    const after = await Promise.all(done.map((target) => this.readItem(target)));
    const now = new Date();
    const touchedTables = new Set<string>();
    done.forEach((target, index) => {
      const newImage = after[index];
      if (newImage === 'error') return;
      const record = buildStreamRecord(
        target.stream,
        { oldImage: target.oldImage, newImage },
        this.context.region,
        now,
      );
      if (!record) return;
      this.context.store.append(target.stream.streamArn, record);
      touchedTables.add(target.stream.tableName);
    });
    for (const tableName of touchedTables) this.context.notify(tableName);
    return response;
  }

  /** The current item (or `undefined` if absent), or `'error'` if dynalite refused the read. */
  private async readItem(target: CapturedTarget): Promise<WireItem | undefined | 'error'> {
    const result = await this.context.backend.call<{ Item?: WireItem }>('GetItem', {
      TableName: target.stream.tableName,
      Key: target.key,
      ConsistentRead: true,
    });
    return isOk(result) ? result.body.Item : 'error';
  }
}

function isItem(value: unknown): value is WireItem {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function targetId(tableName: string, key: WireItem): string {
  return `${tableName}\u0000${canonicalJson(key)}`;
}

/** Keys of the batch's requests that dynalite handed back as unprocessed. */
function unprocessedKeys(response: BufferedResponse, targets: CapturedTarget[]): Set<string> {
  const body = JSON.parse(response.body.toString('utf8')) as { UnprocessedItems?: Record<string, WriteRequest[]> };
  const skipped = new Set<string>();
  for (const [tableName, writes] of Object.entries(body.UnprocessedItems ?? {})) {
    const stream = targets.find((target) => target.stream.tableName === tableName)?.stream;
    if (!stream) continue;
    for (const write of writes) {
      const source = write.PutRequest?.Item ?? write.DeleteRequest?.Key;
      const key = isItem(source) ? keyOf(source, stream.keySchema) : undefined;
      if (key) skipped.add(targetId(tableName, key));
    }
  }
  return skipped;
}
