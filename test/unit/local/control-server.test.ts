import { describe, expect, it } from 'vitest';
import { startControlServer } from '../../../src/local/control-server.js';

describe('control server', () => {
  it('runs one sync at a time, answers health, and refuses oversized bodies', async () => {
    let running = 0;
    let most = 0;
    let calls = 0;
    const control = await startControlServer({
      sync: async (options) => {
        running += 1;
        calls += 1;
        most = Math.max(most, running);
        await new Promise((resolve) => setTimeout(resolve, 20));
        running -= 1;
        return { export: options.export };
      },
    });
    try {
      expect((await fetch(`${control.url}/health`)).status).toBe(200);
      const answers = await Promise.all(
        [true, false].map(async (flag) => {
          const response = await fetch(`${control.url}/sync`, {
            method: 'POST',
            body: JSON.stringify({ export: flag }),
          });
          return response.json();
        }),
      );
      expect(answers).toEqual([{ export: true }, { export: false }]);
      expect(most).toBe(1);
      const big = await fetch(`${control.url}/sync`, { method: 'POST', body: 'x'.repeat(200 * 1024) }).catch(
        (error: Error) => error,
      );
      // Either the 413 arrives or the socket is cut first; the server never runs a sync for it.
      if (!(big instanceof Error)) expect(big.status).toBe(413);
      expect(calls).toBe(2);
    } finally {
      await control.close();
    }
  });
});
