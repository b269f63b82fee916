import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynaliteBackend, type BufferedResponse } from './dynalite-backend.js';
import { AwsWireError } from './errors.js';
import { TableExports } from './export-to-s3.js';
import { KeyedMutex } from './keyed-mutex.js';
import { forward, type ClientRequest, type ProxyContext } from './proxy-context.js';
import { StreamsApi } from './streams-api.js';
import { StreamPurger, resolveStreamRetentionSeconds } from './stream-retention.js';
import { StreamStore } from './stream-store.js';
import { TableLifecycle } from './table-lifecycle.js';
import { Transactions } from './transactions.js';
import type { EmbeddedDynamoDb, EmbeddedDynamoDbOptions, RecoverySummary } from './types.js';
import { errorResponse, jsonResponse } from './wire-response.js';
import { WriteCapture } from './write-capture.js';
import { recoverPendingWrites } from './write-intents.js';

const MAX_REQUEST_BYTES = 16 * 1024 * 1024;
const DYNAMODB_TARGET = 'DynamoDB_20120810';
const STREAMS_TARGET = 'DynamoDBStreams_20120810';
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length']);

/**
 * Starts a local DynamoDB + DynamoDB Streams endpoint: dynalite (LevelDB, in `dataDir`) behind a
 * proxy that adds streams (SQLite, in `streamsDbFile`). Unmodified AWS SDK v3 clients
 * (`@aws-sdk/client-dynamodb`, `lib-dynamodb`, `client-dynamodb-streams`) work against `endpoint`.
 * Stream records are trimmed after `streamRetentionSeconds` (default: `TRIBUTARY_STREAM_RETENTION_SECONDS`,
 * else 24 hours), as in AWS; a timer deletes those no export needs any more.
 *
 * @example
 * const paths = stateDirPaths('.tributary');
 * const ddb = await startEmbeddedDynamoDb({ dataDir: paths.dynamodb, streamsDbFile: paths.streams });
 * const client = new DynamoDBClient({ endpoint: ddb.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
 * const stop = ddb.onRecords((table) => wakePipe(table));
 * await ddb.close();
 */
export async function startEmbeddedDynamoDb(options: EmbeddedDynamoDbOptions): Promise<EmbeddedDynamoDb> {
  const host = options.host ?? '127.0.0.1';
  const retentionMs = resolveStreamRetentionSeconds(options.streamRetentionSeconds) * 1000;
  const listeners = new Set<(tableName: string) => void>();
  const store = new StreamStore(options.streamsDbFile);
  let backend: DynaliteBackend;
  try {
    backend = await DynaliteBackend.start(options.dataDir);
  } catch (error) {
    store.close();
    throw error;
  }

  const context: ProxyContext = {
    backend,
    store,
    tableLocks: new KeyedMutex(),
    region: options.region ?? 'us-east-1',
    accountId: options.accountId ?? '000000000000',
    bucketsDir: options.bucketsDir,
    notify(tableName) {
      for (const listener of listeners) {
        try {
          listener(tableName);
        } catch {
          // A listener's failure must not fail the client's write, which already happened.
        }
      }
    },
  };
  let recovered: RecoverySummary;
  try {
    // Before serving: a write interrupted by a crash gets its stream record before any client
    // (or its retry of that write) sees the table again.
    recovered = await recoverPendingWrites(context);
  } catch (error) {
    await backend.close();
    store.close();
    throw error;
  }
  const route = createRouter(context, retentionMs);
  const purger = new StreamPurger(store, { retentionMs });
  const server = createServer((req, res) => {
    void handle(req, res, route);
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await backend.close();
    store.close();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  purger.start();

  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    recovered,
    onRecords(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    close() {
      closing ??= (async () => {
        await closeServer(server);
        await purger.stop();
        await backend.close();
        store.close();
        listeners.clear();
      })();
      return closing;
    },
  };
}

type Router = (request: ClientRequest) => Promise<BufferedResponse>;

function createRouter(context: ProxyContext, retentionMs: number): Router {
  const lifecycle = new TableLifecycle(context);
  const writes = new WriteCapture(context);
  const streams = new StreamsApi(context.store, { retentionMs });
  const transactions = new Transactions(context);
  const exports = new TableExports(context);
  return async (request) => {
    const [api, operation] = String(request.headers['x-amz-target'] ?? '').split('.');
    if (request.method === 'POST' && api === STREAMS_TARGET && operation) {
      return jsonResponse(200, streams.handle(operation, request.input));
    }
    if (request.method !== 'POST' || api !== DYNAMODB_TARGET) return forward(context, request);
    switch (operation) {
      case 'CreateTable':
        return lifecycle.createTable(request);
      case 'DescribeTable':
        return lifecycle.describeTable(request);
      case 'UpdateTable':
        return lifecycle.updateTable(request);
      case 'DeleteTable':
        return lifecycle.deleteTable(request);
      case 'GetItem': {
        // Serializable with transactions, as DynamoDB's single-item reads are: wait for the table's lock, so a
        // transaction being applied (or rolled back) is never seen half-way. Query, Scan and BatchGetItem stay
        // read-committed per item, as documented for DynamoDB.
        const tableName = request.input['TableName'];
        if (typeof tableName !== 'string') return forward(context, request);
        return context.tableLocks.run([tableName], () => forward(context, request));
      }
      case 'PutItem':
      case 'UpdateItem':
      case 'DeleteItem':
        return writes.singleItemWrite(request, operation);
      case 'BatchWriteItem':
        return writes.batchWrite(request);
      case 'TransactWriteItems':
        return transactions.transactWrite(request);
      case 'TransactGetItems':
        return transactions.transactGet(request);
      case 'UpdateContinuousBackups':
        return exports.updateContinuousBackups(request);
      case 'DescribeContinuousBackups':
        return exports.describeContinuousBackups(request);
      case 'ExportTableToPointInTime':
        return exports.exportTable(request);
      case 'DescribeExport':
        return exports.describeExport(request);
      case 'ListExports':
        return exports.listExports(request);
      default:
        return forward(context, request);
    }
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, route: Router): Promise<void> {
  let response: BufferedResponse;
  try {
    const body = await readBody(req);
    if (!body) {
      response = { statusCode: 413, headers: {}, body: Buffer.alloc(0) };
    } else {
      response = await route({
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        headers: req.headers,
        body,
        input: parseInput(body),
      });
    }
  } catch (error) {
    response =
      error instanceof AwsWireError
        ? errorResponse(error)
        : // Internal failures answer as a retryable 500 and say nothing of the request's content.
          jsonResponse(500, {
            __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
            message: 'Internal server error',
          });
  }
  for (const [name, value] of Object.entries(response.headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) res.setHeader(name, value);
  }
  res.statusCode = response.statusCode;
  res.setHeader('content-length', response.body.length);
  res.end(response.body);
}

/** The request body, or `undefined` when it exceeds the size limit. */
async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_REQUEST_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function parseInput(body: Buffer): Record<string, unknown> {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as unknown;
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    // dynalite answers malformed JSON with a SerializationException when the request is forwarded.
    return {};
  }
}

async function closeServer(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  server.closeAllConnections();
  await closed;
}
