import { describe, expect, it } from 'vitest';
import { KeyedMutex } from '../../../src/local/dynamodb/keyed-mutex.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('KeyedMutex', () => {
  it('runs tasks on one key one at a time, in arrival order', async () => {
    const mutex = new KeyedMutex();
    const log: string[] = [];
    let running = 0;
    let maxRunning = 0;
    await Promise.all(
      [1, 2, 3, 4].map((n) =>
        mutex.run(['t'], async () => {
          running += 1;
          maxRunning = Math.max(maxRunning, running);
          log.push(`start ${n}`);
          await tick();
          log.push(`end ${n}`);
          running -= 1;
        }),
      ),
    );
    expect(maxRunning).toBe(1);
    expect(log).toEqual(['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3', 'start 4', 'end 4']);
  });

  it('lets different keys run concurrently', async () => {
    const mutex = new KeyedMutex();
    let release!: () => void;
    const blocker = new Promise<void>((resolve) => {
      release = resolve;
    });
    const first = mutex.run(['a'], () => blocker);
    let otherRan = false;
    await mutex.run(['b'], async () => {
      otherRan = true;
    });
    expect(otherRan).toBe(true);
    release();
    await first;
  });

  it('releases the key when a task throws', async () => {
    const mutex = new KeyedMutex();
    await expect(mutex.run(['k'], async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(mutex.run(['k'], async () => 'ok')).resolves.toBe('ok');
  });

  it('multi-key holders in opposite orders do not deadlock', async () => {
    const mutex = new KeyedMutex();
    const results = await Promise.all([
      mutex.run(['x', 'y'], async () => {
        await tick();
        return 1;
      }),
      mutex.run(['y', 'x'], async () => {
        await tick();
        return 2;
      }),
    ]);
    expect(results).toEqual([1, 2]);
  });
});
