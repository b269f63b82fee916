import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the server saw (no bodies kept but the form of token requests). */
export interface SeenRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  body: string;
}

/** Answers a request; `base` is the server's own `http://127.0.0.1:<port>`. */
export type Handler = (req: IncomingMessage, res: ServerResponse, base: string, body: string) => void;

/**
 * A real HTTP server on 127.0.0.1 whose answers are scripted per `METHOD path`: a list of handlers is played in order,
 * the last one repeating, so a test can say "429, then 503, then 202" the way a loaded Bulk Data server behaves.
 *
 * @example
 * const server = await ScriptedHttpServer.start({ 'GET /fhir/$export': [status(429, { 'retry-after': '3' }), accepted('/status/1')] });
 */
export class ScriptedHttpServer {
  public readonly seen: SeenRequest[] = [];
  private readonly played = new Map<string, number>();

  private constructor(
    private readonly server: Server,
    public readonly base: string,
  ) {}

  public static async start(routes: Record<string, Handler[]>): Promise<ScriptedHttpServer> {
    const holder: { self?: ScriptedHttpServer } = {};
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => holder.self!.answer(routes, req, res, Buffer.concat(chunks).toString('utf8')));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    holder.self = new ScriptedHttpServer(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return holder.self;
  }

  /** Requests of one `METHOD path`. */
  public requests(route: string): SeenRequest[] {
    return this.seen.filter((r) => `${r.method} ${r.path}` === route);
  }

  public async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private answer(routes: Record<string, Handler[]>, req: IncomingMessage, res: ServerResponse, body: string): void {
    const path = new URL(req.url!, this.base).pathname;
    const route = `${req.method} ${path}`;
    this.seen.push({ method: req.method!, path, authorization: req.headers.authorization, body });
    const handlers = routes[route];
    if (!handlers?.length) {
      res.writeHead(404, { 'content-type': 'application/fhir+json' }).end(outcome('not-found', `no route ${route}`));
      return;
    }
    const index = this.played.get(route) ?? 0;
    this.played.set(route, index + 1);
    handlers[Math.min(index, handlers.length - 1)]!(req, res, this.base, body);
  }
}

/** An OperationOutcome body with one issue. */
export function outcome(code: string, diagnostics: string): string {
  return JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics }] });
}

/** Answers `status` with headers and an optional JSON body. */
export function reply(status: number, headers: Record<string, string> = {}, body?: unknown): Handler {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/fhir+json', ...headers });
    res.end(body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body));
  };
}

/** A Bulk Data kick-off acceptance: 202 with `Content-Location` on this server. */
export function accepted(statusPath: string): Handler {
  return (_req, res, base) => res.writeHead(202, { 'content-location': `${base}${statusPath}` }).end();
}

/** A completed status answer: the manifest, with file URLs on this server. */
export function completed(manifest: {
  requiresAccessToken: boolean;
  output?: Array<{ type: string; path: string }>;
  deleted?: Array<{ type: string; path: string }>;
}): Handler {
  return (_req, res, base) => {
    const files = (list: Array<{ type: string; path: string }> = []) =>
      list.map((file) => ({ type: file.type, url: `${base}${file.path}` }));
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        transactionTime: '2024-09-09T09:09:09Z',
        request: `${base}/fhir/$export`,
        requiresAccessToken: manifest.requiresAccessToken,
        output: files(manifest.output),
        deleted: files(manifest.deleted),
        error: [],
      }),
    );
  };
}

/** A free port with nothing listening on it (connecting gives ECONNREFUSED). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
