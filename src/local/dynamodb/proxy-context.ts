import type { IncomingHttpHeaders } from 'node:http';
import type { DynaliteBackend } from './dynalite-backend.js';
import type { KeyedMutex } from './keyed-mutex.js';
import type { StreamStore } from './stream-store.js';

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
