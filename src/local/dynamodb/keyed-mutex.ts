/**
 * An async mutex per key: callbacks holding the same key run one at a time, in arrival order;
 * different keys run concurrently. Used to serialise writes per table so each stream record's
 * old and new images chain exactly.
 *
 * @example
 * const mutex = new KeyedMutex();
 * await mutex.run(['Visits'], async () => write());
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  /**
   * Runs `task` while holding every key in `keys` (taken in sorted order, so callers holding
   * several keys cannot deadlock each other).
   */
  public async run<T>(keys: readonly string[], task: () => Promise<T>): Promise<T> {
    const sorted = [...new Set(keys)].sort();
    const releases: Array<() => void> = [];
    try {
      for (const key of sorted) releases.push(await this.acquire(key));
      return await task();
    } finally {
      for (const release of releases.reverse()) release();
    }
  }

  private async acquire(key: string): Promise<() => void> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => held);
    this.tails.set(key, tail);
    await previous;
    return () => {
      release();
      // Forget the key once nobody queues behind us, so the map does not grow with table names.
      if (this.tails.get(key) === tail) this.tails.delete(key);
    };
  }
}
