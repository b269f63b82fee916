import type { IncomingHttpHeaders } from 'node:http';
import type { DynaliteBackend } from './dynalite-backend.js';
import type { KeyedMutex } from './keyed-mutex.js';
import type { StreamStore } from './stream-store.js';
import { AwsWireError } from './errors.js';
import type { KeySchemaElement } from './types.js';
import { isOk } from './wire-response.js';

/** A client request as received on the public port, body buffered and parsed. */
export interface ClientRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The parsed JSON body (an empty object when it is not a JSON object). */
  input: Record<string, unknown>;
}

/** What the request handlers of the embedded endpoint share. */
export interface ProxyContext {
  backend: DynaliteBackend;
  store: StreamStore;
  /** Serialises table-changing requests and captured writes per table name. */
  tableLocks: KeyedMutex;
  region: string;
  accountId: string;
  /** Buckets directory of the local S3 stand-in, when exports to S3 are possible. */
  bucketsDir?: string | undefined;
  /** Called after stream records were appended for a table. */
  notify(tableName: string): void;
}

/**
 * Forwards a client request to dynalite unchanged.
 *
 * @example
 * return forward(context, request);
 */
export function forward(context: ProxyContext, request: ClientRequest) {
  return context.backend.forward(request.method, request.path, request.headers, request.body);
}

/**
 * The key schema of a table, from dynalite's DescribeTable; a `ResourceNotFoundException` when it has none.
 *
 * @example
 * const keys = keyOf(item, await keySchemaOf(context, 'Visits'));
 */
export async function keySchemaOf(context: ProxyContext, tableName: string): Promise<KeySchemaElement[]> {
  const described = await context.backend.call<{ Table?: { KeySchema: KeySchemaElement[] } }>('DescribeTable', {
    TableName: tableName,
  });
  if (!isOk(described) || !described.body.Table)
    throw new AwsWireError('ResourceNotFoundException', 'Requested resource not found');
  return described.body.Table.KeySchema;
}
