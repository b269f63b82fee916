import { Agent, request, type IncomingHttpHeaders, type OutgoingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import dynalite from 'dynalite';
import { DataDirInUseError } from './errors.js';

/** A buffered HTTP response. */
export interface BufferedResponse {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** The answer of an internal DynamoDB call: HTTP status and parsed JSON body. */
export interface BackendResult<T> {
  statusCode: number;
  body: T;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'host', 'expect']);

// dynalite only checks that a SigV4-shaped Authorization header is present, never the signature.
const INTERNAL_AUTHORIZATION =
  'AWS4-HMAC-SHA256 Credential=local/20000101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0';

/**
 * dynalite (LevelDB-backed DynamoDB) running in-process on its own loopback port, plus a keep-alive
 * HTTP client to it. Tables stay ACTIVE from creation on (no CREATING delay) to keep local use fast.
 *
 * @example
 * const backend = await DynaliteBackend.start('.tributary/dynamodb');
 * const { statusCode, body } = await backend.call('DescribeTable', { TableName: 'Visits' });
 */
export class DynaliteBackend {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 64 });

  private constructor(
    private readonly server: Server,
    private readonly port: number,
  ) {}

  /** Starts dynalite on an ephemeral 127.0.0.1 port, persisting in `dataDir`. */
  public static async start(dataDir: string): Promise<DynaliteBackend> {
    await mkdir(dataDir, { recursive: true });
    await assertLevelDbAvailable(dataDir);
    const server = dynalite({ path: dataDir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const backend = new DynaliteBackend(server, (server.address() as AddressInfo).port);
    // dynalite opens LevelDB lazily; one request makes start() return only once the store is open.
    await backend.call('ListTables', { Limit: 1 });
    return backend;
  }

  /** Forwards a client request unchanged (body and headers, minus hop-by-hop ones). */
  public forward(method: string, path: string, headers: IncomingHttpHeaders, body: Buffer): Promise<BufferedResponse> {
    const outgoing: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(headers)) {
      if (value !== undefined && !HOP_BY_HOP.has(name)) outgoing[name] = value;
    }
    outgoing['content-length'] = body.length;
    return this.send(method, path, outgoing, body);
  }

  /** Calls a DynamoDB operation with a JSON input and parses the JSON answer. */
  public async call<T = Record<string, unknown>>(operation: string, input: unknown): Promise<BackendResult<T>> {
    const response = await this.send('POST', '/', this.internalHeaders(operation), Buffer.from(JSON.stringify(input)));
    return { statusCode: response.statusCode, body: JSON.parse(response.body.toString('utf8')) as T };
  }

  /** Sends a JSON input as a full HTTP request, answer unparsed (for re-serialised client requests). */
  public callRaw(operation: string, input: unknown): Promise<BufferedResponse> {
    return this.send('POST', '/', this.internalHeaders(operation), Buffer.from(JSON.stringify(input)));
  }

  /** Stops dynalite and closes its LevelDB store. */
  public async close(): Promise<void> {
    this.agent.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.server.close((error) => (error ? reject(error) : resolve())));
  }

  private internalHeaders(operation: string): OutgoingHttpHeaders {
    return {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': `DynamoDB_20120810.${operation}`,
      'x-amz-date': '20000101T000000Z',
      authorization: INTERNAL_AUTHORIZATION,
    };
  }

  private send(method: string, path: string, headers: OutgoingHttpHeaders, body: Buffer): Promise<BufferedResponse> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: this.port,
          method,
          path,
          headers: { ...headers, 'content-length': body.length },
          agent: this.agent,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () =>
            resolve({ statusCode: res.statusCode ?? 500, headers: res.headers, body: Buffer.concat(chunks) }),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }
}

/** The slice of dynalite's own `level` package we use. */
interface LevelModule {
  Level: new (location: string) => { open(): Promise<void>; close(): Promise<void> };
}

/**
 * Opens and closes the LevelDB directory once before dynalite does. dynalite opens it lazily and
 * throws "Database is not open" from inside a request handler (an uncaught exception that ends the
 * process) when another process holds the directory, so we fail here, early and clearly.
 */
async function assertLevelDbAvailable(dataDir: string): Promise<void> {
  const requireFromDynalite = createRequire(createRequire(import.meta.url).resolve('dynalite'));
  const { Level } = requireFromDynalite('level') as LevelModule;
  const probe = new Level(dataDir);
  try {
    await probe.open();
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    if (cause?.code === 'LEVEL_LOCKED') throw new DataDirInUseError(dataDir);
    throw error;
  }
  await probe.close();
}
