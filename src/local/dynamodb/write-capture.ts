import type { BufferedResponse } from './dynalite-backend.js';
import { forward, keySchemaOf, type ClientRequest, type ProxyContext } from './proxy-context.js';
import { crashPoint } from '../fault-hooks.js';
import { keyOf } from './stream-record.js';
import type { KeySchemaElement, StreamInfo, WireItem } from './types.js';
import { isOk, rewriteJson } from './wire-response.js';
import { WriteIntents } from './write-intents.js';

/** One item a write touches, on a table with a stream. */
interface CapturedTarget {
  stream: StreamInfo;
  key: WireItem;
}

type WriteRequest = { PutRequest?: { Item?: WireItem }; DeleteRequest?: { Key?: WireItem } };

/**
 * Turns writes to tables with an enabled stream into stream records: per table, one write at a
 * time, it reads the item before (consistent GetItem), stores a write-ahead intent, forwards the
 * client's request unchanged, reads the item after, and appends a record when the item changed,
 * atomically with deleting the intent, so a crash in between is repaired on the next start.
 * Writes to tables without a stream are forwarded as they are (under the same per-table lock).
 *
 * @example
 * const capture = new WriteCapture(context);
 * const response = await capture.singleItemWrite(request, 'PutItem');
 */
export class WriteCapture {
  private readonly intents: WriteIntents;

  public constructor(private readonly context: ProxyContext) {
    this.intents = new WriteIntents(context);
  }

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
      const response =
        !stream || !key ? await forward(this.context, request) : await this.captured(request, [{ stream, key }]);
      return this.withItemOnConditionFailure(request, tableName, source, stream?.keySchema, response);
    });
  }

  /**
   * `ReturnValuesOnConditionCheckFailure: ALL_OLD`, which dynalite ignores: a ConditionalCheckFailedException carries
   * the item as it is (still under the table's lock, so as it was when the condition failed).
   */
  private async withItemOnConditionFailure(
    request: ClientRequest,
    tableName: string,
    source: WireItem | undefined,
    keySchema: readonly KeySchemaElement[] | undefined,
    response: BufferedResponse,
  ): Promise<BufferedResponse> {
    if (request.input['ReturnValuesOnConditionCheckFailure'] !== 'ALL_OLD' || response.statusCode !== 400)
      return response;
    const error = JSON.parse(response.body.toString('utf8')) as { __type?: string };
    if (!error.__type?.endsWith('ConditionalCheckFailedException') || !isItem(source)) return response;
    // A table with a stream has its key schema at hand; another is asked.
    const schema = keySchema ?? (await keySchemaOf(this.context, tableName).catch(() => undefined));
    const key = schema && keyOf(source, schema);
    if (!key) return response;
    const read = await this.context.backend.call<{ Item?: WireItem }>('GetItem', {
      TableName: tableName,
      Key: key,
      ConsistentRead: true,
    });
    if (!isOk(read) || !read.body.Item) return response;
    const item = read.body.Item;
    return rewriteJson<Record<string, unknown>>(response, (body) => ({ ...body, Item: item }));
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
      return this.captured(request, targets);
    });
  }

  /**
   * Reads old images, stores write-ahead intents, forwards the request, then reads new images and
   * appends the records of changed items while deleting the intents (see {@link WriteIntents}).
   */
  private async captured(request: ClientRequest, targets: CapturedTarget[]): Promise<BufferedResponse> {
    const before = await Promise.all(targets.map((target) => this.readItem(target)));
    // If the key cannot even be read, the write will fail too; let dynalite answer it.
    if (before.some((read) => read === 'error')) return forward(this.context, request);
    const pending = this.intents.begin(
      targets.map((target, index) => ({ ...target, oldImage: before[index] as WireItem | undefined })),
    );
    crashPoint('dynamodb.before-write');
    let response: BufferedResponse;
    try {
      response = await forward(this.context, request);
    } finally {
      // Settled whatever dynalite answered: a failed batch may have applied some of its writes,
      // and unprocessed or refused writes left their items as they were, so they get no record.
      crashPoint('dynamodb.after-write');
      await this.intents.settle(pending);
    }
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
