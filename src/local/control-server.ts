import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const MAX_BODY_BYTES = 64 * 1024;

/** Operations a running `tributary up` offers to other commands on the same machine. */
export interface ControlHandlers {
  /** One sync cycle (drain pipes, export), returning a JSON-safe summary. */
  sync(options: { export: boolean }): Promise<unknown>;
}

/**
 * A loopback HTTP endpoint through which `tributary sync` asks a running `tributary up` to run a
 * cycle, so that only one process ever drives the pipes and the workflow executor of a state directory.
 *
 * @example
 * const control = await startControlServer({ sync: (o) => runSyncCycle(stack, o) });
 * // POST http://127.0.0.1:<port>/sync {"export":true}
 */
export async function startControlServer(handlers: ControlHandlers): Promise<{ url: string; close(): Promise<void> }> {
  let busy = Promise.resolve();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      // The only body is `{"export":…}`: refuse to buffer anything large.
      if (bytes > MAX_BODY_BYTES) {
        reply(413, { error: 'body too large' });
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (req.method === 'GET' && req.url === '/health') return reply(200, { ok: true });
      if (req.method !== 'POST' || req.url !== '/sync') return reply(404, { error: 'not found' });
      let options = { export: true };
      try {
        const text = Buffer.concat(chunks).toString('utf8');
        if (text) options = { export: (JSON.parse(text) as { export?: boolean }).export !== false };
      } catch {
        return reply(400, { error: 'body must be JSON' });
      }
      // One cycle at a time: concurrent requests queue behind each other.
      const run = busy.then(() => handlers.sync(options));
      busy = run.then(
        () => undefined,
        () => undefined,
      );
      run.then(
        (result) => reply(200, result),
        (error: Error) => reply(500, { error: error.message }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
