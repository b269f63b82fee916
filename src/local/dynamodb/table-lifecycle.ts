import { setTimeout } from 'node:timers/promises';
import type { BufferedResponse } from './dynalite-backend.js';
import { validationError, type AwsWireError } from './errors.js';
import { forward, type ClientRequest, type ProxyContext } from './proxy-context.js';
import { STREAM_VIEW_TYPES, type KeySchemaElement, type StreamViewType } from './types.js';
import { errorResponse, isOk, rewriteJson } from './wire-response.js';

/** A table description as dynalite returns it, with the stream fields we add. */
interface TableDescription {
  TableName: string;
  TableId: string;
  TableArn?: string;
  KeySchema: KeySchemaElement[];
  StreamSpecification?: { StreamEnabled: boolean; StreamViewType?: StreamViewType };
  LatestStreamArn?: string;
  LatestStreamLabel?: string;
  GlobalSecondaryIndexes?: Array<{ IndexArn?: string }>;
  LocalSecondaryIndexes?: Array<{ IndexArn?: string }>;
  [field: string]: unknown;
}

/** A requested stream setting. */
interface StreamSetting {
  enabled: boolean;
  viewType?: StreamViewType;
}

const SETTLE_POLL_MS = 2;
const SETTLE_POLL_ATTEMPTS = 2500;

// UpdateTable fields dynalite acts on; a request with none of them is a stream-only update.
const DYNALITE_UPDATE_FIELDS = [
  'ProvisionedThroughput',
  'BillingMode',
  'GlobalSecondaryIndexUpdates',
  'SSESpecification',
  'AttributeDefinitions',
];

/** The stream setting and table name of a CreateTable/UpdateTable request, or the wire error for a bad setting. */
function streamRequestOf(
  request: ClientRequest,
): { setting: StreamSetting | undefined; tableName: string } | { error: BufferedResponse } {
  try {
    const setting = parseStreamSpecification(request.input['StreamSpecification']);
    return { setting, tableName: String(request.input['TableName'] ?? '') };
  } catch (error) {
    return { error: errorResponse(error as AwsWireError) };
  }
}

/**
 * CreateTable, DescribeTable, UpdateTable and DeleteTable with DynamoDB Streams settings, which
 * dynalite ignores: stream state lives in the {@link StreamStore}, and table descriptions gain
 * `StreamSpecification`, `LatestStreamArn` and `LatestStreamLabel`.
 *
 * @example
 * const lifecycle = new TableLifecycle(context);
 * const response = await lifecycle.createTable(request);
 */
export class TableLifecycle {
  public constructor(private readonly context: ProxyContext) {}

  public async createTable(request: ClientRequest): Promise<BufferedResponse> {
    const parsed = streamRequestOf(request);
    if ('error' in parsed) return parsed.error;
    const { setting, tableName } = parsed;
    return this.context.tableLocks.run([tableName], async () => {
      const response = await forward(this.context, request);
      if (!isOk(response)) return response;
      await this.untilSettled(tableName, 'ACTIVE');
      return rewriteJson<{ TableDescription: TableDescription }>(response, (body) => {
        if (setting?.enabled && setting.viewType) {
          const table = body.TableDescription;
          this.context.store.createStream({
            tableName: table.TableName,
            tableId: table.TableId,
            viewType: setting.viewType,
            keySchema: table.KeySchema,
            region: this.context.region,
            accountId: this.context.accountId,
          });
        }
        return { ...body, TableDescription: this.withStream(body.TableDescription) };
      });
    });
  }

  public async describeTable(request: ClientRequest): Promise<BufferedResponse> {
    const response = await forward(this.context, request);
    if (!isOk(response)) return response;
    return rewriteJson<{ Table: TableDescription }>(response, (body) => ({
      ...body,
      Table: this.withStream(body.Table),
    }));
  }

  public async updateTable(request: ClientRequest): Promise<BufferedResponse> {
    const parsed = streamRequestOf(request);
    if ('error' in parsed) return parsed.error;
    const { setting, tableName } = parsed;
    return this.context.tableLocks.run([tableName], async () => {
      if (!setting) {
        const response = await forward(this.context, request);
        if (!isOk(response)) return response;
        return rewriteJson<{ TableDescription: TableDescription }>(response, (body) => ({
          ...body,
          TableDescription: this.withStream(body.TableDescription),
        }));
      }
      const current = await this.context.backend.callRaw('DescribeTable', { TableName: tableName });
      if (!isOk(current)) return current;
      const enabled = this.context.store.enabledStream(tableName);
      if (setting.enabled && enabled)
        return errorResponse(validationError(`Table already has an enabled stream: TableName: ${tableName}`));
      if (!setting.enabled && !enabled)
        return errorResponse(validationError(`Table already has stream disabled: TableName: ${tableName}`));

      const { StreamSpecification: _stream, ...rest } = request.input;
      const hasOtherUpdates = DYNALITE_UPDATE_FIELDS.some((field) => rest[field] !== undefined);
      const response = hasOtherUpdates ? await this.context.backend.callRaw('UpdateTable', rest) : current;
      if (!isOk(response)) return response;
      return rewriteJson<{ TableDescription?: TableDescription; Table?: TableDescription }>(response, (body) => {
        const table = (body.TableDescription ?? body.Table) as TableDescription;
        if (enabled) this.context.store.disableStream(enabled.streamArn);
        if (setting.enabled && setting.viewType) {
          this.context.store.createStream({
            tableName,
            tableId: table.TableId,
            viewType: setting.viewType,
            keySchema: table.KeySchema,
            region: this.context.region,
            accountId: this.context.accountId,
          });
        }
        return { TableDescription: this.withStream(table) };
      });
    });
  }

  public async deleteTable(request: ClientRequest): Promise<BufferedResponse> {
    const tableName = String(request.input['TableName'] ?? '');
    return this.context.tableLocks.run([tableName], async () => {
      const response = await forward(this.context, request);
      if (!isOk(response)) return response;
      await this.untilSettled(tableName, 'gone');
      const enabled = this.context.store.enabledStream(tableName);
      if (enabled) this.context.store.disableStream(enabled.streamArn);
      return rewriteJson<{ TableDescription: TableDescription }>(response, (body) => ({
        ...body,
        TableDescription: this.withStream(body.TableDescription),
      }));
    });
  }

  /**
   * Waits until dynalite has finished creating (ACTIVE) or deleting (gone) a table: a few ms with
   * zero state delays. Without it a write right after CreateTable could have its image read
   * refused yet be accepted itself, and a CreateTable right after DeleteTable could fail.
   */
  private async untilSettled(tableName: string, goal: 'ACTIVE' | 'gone'): Promise<void> {
    for (let attempt = 0; attempt < SETTLE_POLL_ATTEMPTS; attempt++) {
      const described = await this.context.backend.call<{ Table?: { TableStatus?: string } }>('DescribeTable', {
        TableName: tableName,
      });
      if (goal === 'gone' ? !isOk(described) : !isOk(described) || described.body.Table?.TableStatus === 'ACTIVE')
        return;
      await setTimeout(SETTLE_POLL_MS);
    }
  }

  /** Adds the stream fields of the table's latest stream, and puts ARNs in our region and account. */
  private withStream(table: TableDescription): TableDescription {
    const { StreamSpecification: _spec, LatestStreamArn: _arn, LatestStreamLabel: _label, ...rest } = table;
    const described: TableDescription = {
      ...rest,
      TableArn: `arn:aws:dynamodb:${this.context.region}:${this.context.accountId}:table/${table.TableName}`,
    };
    for (const index of [...(described.GlobalSecondaryIndexes ?? []), ...(described.LocalSecondaryIndexes ?? [])]) {
      if (index.IndexArn)
        index.IndexArn = index.IndexArn.replace(
          /^arn:aws:dynamodb:[^:]*:[^:]*:/,
          `arn:aws:dynamodb:${this.context.region}:${this.context.accountId}:`,
        );
    }
    const latest = this.context.store.latestStream(table.TableName, table.TableId);
    if (!latest) return described;
    if (latest.enabled) described.StreamSpecification = { StreamEnabled: true, StreamViewType: latest.viewType };
    described.LatestStreamArn = latest.streamArn;
    described.LatestStreamLabel = latest.label;
    return described;
  }
}

function parseStreamSpecification(value: unknown): StreamSetting | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object') throw validationError('StreamSpecification must be a structure');
  const { StreamEnabled, StreamViewType } = value as Record<string, unknown>;
  if (typeof StreamEnabled !== 'boolean') {
    throw validationError(
      "1 validation error detected: Value null at 'streamSpecification.streamEnabled' failed to satisfy constraint: Member must not be null",
    );
  }
  if (StreamViewType !== undefined && !STREAM_VIEW_TYPES.includes(StreamViewType as StreamViewType)) {
    throw validationError(
      `1 validation error detected: Value '${String(StreamViewType)}' at 'streamSpecification.streamViewType' failed to satisfy constraint: Member must satisfy enum value set: [${STREAM_VIEW_TYPES.join(', ')}]`,
    );
  }
  if (StreamEnabled && StreamViewType === undefined) {
    throw validationError(
      'One or more parameter values were invalid: StreamViewType is required when StreamEnabled is true',
    );
  }
  return StreamEnabled ? { enabled: true, viewType: StreamViewType as StreamViewType } : { enabled: false };
}
