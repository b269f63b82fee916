import { crashPoint } from '../fault-hooks.js';
import type { BufferedResponse } from './dynalite-backend.js';
import { AwsWireError, validationError } from './errors.js';
import { keySchemaOf, type ClientRequest, type ProxyContext } from './proxy-context.js';
import { canonicalJson, keyOf } from './stream-record.js';
import type { KeySchemaElement, StreamInfo, WireItem } from './types.js';
import { errorResponse, isOk, jsonResponse } from './wire-response.js';
import { WriteIntents } from './write-intents.js';

type Action = 'ConditionCheck' | 'Put' | 'Delete' | 'Update';
const ACTIONS: readonly Action[] = ['ConditionCheck', 'Put', 'Delete', 'Update'];
const MAX_TRANSACT_ITEMS = 100;
/** How long DynamoDB keeps a ClientRequestToken: 10 minutes. */
const TOKEN_WINDOW_MS = 10 * 60 * 1000;

/** One action of a TransactWriteItems request, with what we learned about its item. */
interface TransactAction {
  action: Action;
  params: Record<string, unknown>;
  tableName: string;
  key: WireItem;
  stream?: StreamInfo | undefined;
  oldImage?: WireItem | undefined;
}

interface CancellationReason {
  Code: string;
  Message?: string;
  Item?: WireItem;
}

/**
 * TransactWriteItems and TransactGetItems, which dynalite lacks, emulated over its single-item
 * operations. All tables of the transaction are locked (the same per-table locks captured writes
 * take), every condition is checked first with a no-op conditional write, then the writes are
 * applied; if one fails anyway, the items already written are restored from their old images.
 * Stream records come from write-ahead intents ({@link WriteIntents}), so a crash mid-way still
 * streams what was applied (a crash can leave a transaction half-applied, but never unstreamed).
 * Every write through this endpoint takes the same per-table locks, so transactions are isolated
 * from single-item and batch writes, and from GetItem (which waits for the table's lock; Query and Scan do not).
 *
 * @example
 * const transactions = new Transactions(context);
 * const response = await transactions.transactWrite(request);
 */
export class Transactions {
  private readonly intents: WriteIntents;
  /** ClientRequestTokens of recent transactions: what they asked, and when they succeeded (undefined: under way). */
  private readonly tokens = new Map<string, { fingerprint: string; succeededAt?: number }>();

  public constructor(
    private readonly context: ProxyContext,
    private readonly now: () => number = Date.now,
  ) {
    this.intents = new WriteIntents(context);
  }

  /**
   * TransactWriteItems, idempotent by `ClientRequestToken` as DynamoDB's is (the SDK sets one and sends it again on a
   * retry): within {@link TOKEN_WINDOW_MS} of a success, the same token and items succeed again without writing, other
   * items with the same token are an IdempotentParameterMismatchException, and a token whose transaction is still
   * under way is a TransactionInProgressException. Tokens are kept in memory, so a restart forgets them.
   */
  public async transactWrite(request: ClientRequest): Promise<BufferedResponse> {
    const token = request.input['ClientRequestToken'];
    if (typeof token !== 'string' || token === '') return this.transactWriteOnce(request);
    this.forgetExpiredTokens(this.now());
    const fingerprint = canonicalJson(request.input['TransactItems'] ?? null);
    const seen = this.tokens.get(token);
    if (seen) {
      if (seen.fingerprint !== fingerprint)
        return errorResponse(
          new AwsWireError(
            'IdempotentParameterMismatchException',
            'The request uses the same client token as a previous, but non-identical request.',
          ),
        );
      if (seen.succeededAt === undefined)
        return errorResponse(
          new AwsWireError(
            'TransactionInProgressException',
            'The transaction with the given request token is already in progress.',
          ),
        );
      return jsonResponse(200, {});
    }
    this.tokens.set(token, { fingerprint });
    let response: BufferedResponse | undefined;
    try {
      response = await this.transactWriteOnce(request);
      return response;
    } finally {
      // Only a success is remembered: a cancelled or failed transaction wrote nothing, and may be sent again.
      if (response && isOk(response)) this.tokens.set(token, { fingerprint, succeededAt: this.now() });
      else this.tokens.delete(token);
    }
  }

  /**
   * Drops tokens whose window has passed, oldest first, stopping at the first that is still kept: the map is in the
   * order transactions started, so each request does constant work on average instead of scanning every token.
   */
  private forgetExpiredTokens(now: number): void {
    for (const [token, entry] of this.tokens) {
      if (entry.succeededAt === undefined || now - entry.succeededAt <= TOKEN_WINDOW_MS) return;
      this.tokens.delete(token);
    }
  }

  private async transactWriteOnce(request: ClientRequest): Promise<BufferedResponse> {
    let actions: TransactAction[];
    try {
      actions = await this.parseActions(request.input['TransactItems']);
    } catch (error) {
      if (error instanceof AwsWireError) return errorResponse(error);
      throw error;
    }
    const tableNames = actions.map((a) => a.tableName);
    return this.context.tableLocks.run(tableNames, async () => {
      for (const action of actions) {
        action.stream = this.context.store.enabledStream(action.tableName);
        const read = await this.context.backend.call<{ Item?: WireItem }>('GetItem', {
          TableName: action.tableName,
          Key: action.key,
          ConsistentRead: true,
        });
        if (!isOk(read)) return jsonResponse(read.statusCode, read.body);
        action.oldImage = read.body.Item;
      }

      const reasons: CancellationReason[] = [];
      for (const action of actions) {
        const check = await this.checkCondition(action);
        if (check instanceof Error) return errorResponse(check);
        reasons.push(check);
      }
      if (reasons.some((r) => r.Code !== 'None')) {
        const codes = reasons.map((r) => r.Code).join(', ');
        return jsonResponse(400, {
          __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
          message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes}]`,
          CancellationReasons: reasons,
        });
      }

      // Write-ahead intents for every item the transaction writes on a table with a stream: a crash
      // during the writes leaves them, and the next start appends the records of what was applied.
      const pending = this.intents.begin(
        actions.flatMap((action) =>
          action.stream && action.action !== 'ConditionCheck'
            ? [{ stream: action.stream, key: action.key, oldImage: action.oldImage }]
            : [],
        ),
      );
      try {
        const applied: TransactAction[] = [];
        for (const action of actions) {
          if (action.action === 'ConditionCheck') continue;
          const { ReturnValuesOnConditionCheckFailure: _ignored, ...params } = action.params;
          const result = await this.context.backend.callRaw(`${action.action}Item`, {
            ...params,
            TableName: action.tableName,
          });
          if (!isOk(result)) {
            await this.restore(applied);
            return result;
          }
          applied.push(action);
        }
        return jsonResponse(200, {});
      } finally {
        // After a restore the items equal their old images again, so they get no record.
        crashPoint('dynamodb.after-write');
        await this.intents.settle(pending);
      }
    });
  }

  public async transactGet(request: ClientRequest): Promise<BufferedResponse> {
    const items = request.input['TransactItems'];
    if (!Array.isArray(items) || items.length === 0 || items.length > MAX_TRANSACT_ITEMS) {
      return errorResponse(validationError(`TransactItems must hold 1 to ${MAX_TRANSACT_ITEMS} items`));
    }
    const tableNames = items.map((item) => String((item as { Get?: { TableName?: unknown } })?.Get?.TableName ?? ''));
    return this.context.tableLocks.run(tableNames, async () => {
      const responses: Array<{ Item?: WireItem }> = [];
      for (const item of items as Array<{ Get?: Record<string, unknown> }>) {
        if (!item?.Get) return errorResponse(validationError('Each TransactItems entry must hold a Get'));
        const read = await this.context.backend.call<{ Item?: WireItem }>('GetItem', {
          ...item.Get,
          ConsistentRead: true,
        });
        if (!isOk(read)) return jsonResponse(read.statusCode, read.body);
        responses.push(read.body.Item ? { Item: read.body.Item } : {});
      }
      return jsonResponse(200, { Responses: responses });
    });
  }

  private async parseActions(value: unknown): Promise<TransactAction[]> {
    if (!Array.isArray(value) || value.length === 0 || value.length > MAX_TRANSACT_ITEMS) {
      throw validationError(
        `1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length between 1 and ${MAX_TRANSACT_ITEMS}`,
      );
    }
    const schemas = new Map<string, KeySchemaElement[]>();
    const seen = new Set<string>();
    const actions: TransactAction[] = [];
    for (const entry of value as Array<Record<string, unknown>>) {
      const present = ACTIONS.filter((name) => entry?.[name] !== undefined);
      const action = present[0];
      if (present.length !== 1 || !action)
        throw validationError('Each TransactItems entry must hold exactly one of ConditionCheck, Put, Delete, Update');
      const params = entry[action] as Record<string, unknown>;
      const tableName = params?.['TableName'];
      if (typeof tableName !== 'string') throw validationError(`${action}.TableName is required`);
      let keySchema = schemas.get(tableName);
      if (!keySchema) {
        keySchema = await keySchemaOf(this.context, tableName);
        schemas.set(tableName, keySchema);
      }
      const source = (action === 'Put' ? params['Item'] : params['Key']) as WireItem | undefined;
      const key = source && typeof source === 'object' ? keyOf(source, keySchema) : undefined;
      if (!key) throw validationError('The provided key element does not match the schema');
      const id = `${tableName}\u0000${canonicalJson(key)}`;
      if (seen.has(id)) throw validationError('Transaction request cannot include multiple operations on one item');
      seen.add(id);
      actions.push({ action, params, tableName, key });
    }
    return actions;
  }

  /**
   * Evaluates an action's condition with a write that changes nothing: the current item put back
   * as it is, or a delete of the absent item, carrying only the condition.
   */
  private async checkCondition(action: TransactAction): Promise<CancellationReason | AwsWireError> {
    const condition = action.params['ConditionExpression'];
    if (typeof condition !== 'string') {
      return action.action === 'ConditionCheck'
        ? validationError('ConditionCheck requires a ConditionExpression')
        : { Code: 'None' };
    }
    const names = pick(action.params['ExpressionAttributeNames'], condition.match(/#[A-Za-z0-9_]+/g));
    const values = pick(action.params['ExpressionAttributeValues'], condition.match(/:[A-Za-z0-9_]+/g));
    const common = {
      TableName: action.tableName,
      ConditionExpression: condition,
      ...(names ? { ExpressionAttributeNames: names } : {}),
      ...(values ? { ExpressionAttributeValues: values } : {}),
    };
    const probe = action.oldImage
      ? await this.context.backend.call<{ __type?: string; message?: string }>('PutItem', {
          ...common,
          Item: action.oldImage,
        })
      : await this.context.backend.call<{ __type?: string; message?: string }>('DeleteItem', {
          ...common,
          Key: action.key,
        });
    if (isOk(probe)) return { Code: 'None' };
    if (probe.body.__type?.endsWith('#ConditionalCheckFailedException')) {
      const wantsItem = action.params['ReturnValuesOnConditionCheckFailure'] === 'ALL_OLD' && action.oldImage;
      return {
        Code: 'ConditionalCheckFailed',
        Message: 'The conditional request failed',
        ...(wantsItem ? { Item: action.oldImage } : {}),
      };
    }
    return new AwsWireError(
      probe.body.__type?.split('#')[1] ?? 'ValidationException',
      probe.body.message ?? 'Invalid condition',
    );
  }

  /** Puts back the old images of writes already applied when a later write failed. */
  private async restore(applied: TransactAction[]): Promise<void> {
    for (const action of applied.reverse()) {
      if (action.oldImage)
        await this.context.backend.call('PutItem', { TableName: action.tableName, Item: action.oldImage });
      else await this.context.backend.call('DeleteItem', { TableName: action.tableName, Key: action.key });
    }
  }
}

/** The entries of a name/value map that an expression references, or `undefined` if none. */
function pick(map: unknown, references: RegExpMatchArray | null): Record<string, unknown> | undefined {
  if (!map || typeof map !== 'object' || !references) return undefined;
  const picked = Object.fromEntries(
    references.filter((ref) => ref in map).map((ref) => [ref, (map as Record<string, unknown>)[ref]]),
  );
  return Object.keys(picked).length > 0 ? picked : undefined;
}
