import { randomBytes } from 'node:crypto';
import { link, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describeOwner, ownerLiveness, parseOwner } from './process-owner.js';
import { hostname } from 'node:os';

/** Name of the lock file in the state directory. */
export const STATE_DIR_LOCK_FILE = 'tributary.lock';

/**
 * Raised when another live process (or one whose liveness cannot be told) embeds the services of the state directory:
 * the embedded DynamoDB (LevelDB) allows one process only. `owner` is its `role:host:pid`.
 */
export class StateDirBusyError extends Error {
  public override readonly name = 'StateDirBusyError';
  public constructor(
    public readonly dir: string,
    public readonly owner: string,
    public readonly liveness: 'alive' | 'unknown',
  ) {
    super(
      liveness === 'alive'
        ? `state directory ${dir} is in use by ${describeOwner(owner)}; try again when it finishes`
        : `state directory ${dir} is locked by ${describeOwner(owner)}, whose liveness cannot be checked from this host; ` +
            `if it is not running, delete ${join(dir, STATE_DIR_LOCK_FILE)}`,
    );
  }
}

/** A held state-directory lock. */
export interface StateDirLock {
  /** Our owner string. */
  readonly owner: string;
  /** The dead owner whose lock was taken over, if any. */
  readonly tookOverFrom?: string;
  /** Removes the lock file if it is still ours. */
  release(): Promise<void>;
}

/**
 * Takes the exclusive lock of a state directory for a process that embeds its services (`sync`, `demo`, `up`, …):
 * `<dir>/tributary.lock` holding the owner string (`role:host:pid`). The file is written whole, then linked into
 * place (atomic, fails if it exists), so it is never seen half-written. A lock whose owner is provably dead (same host,
 * process gone) is taken over at once; a live one, or one from another host, raises {@link StateDirBusyError}.
 *
 * @example
 * const lock = await acquireStateDirLock('.tributary', currentOwner('sync'));
 * if (lock.tookOverFrom) console.error(`took over from ${lock.tookOverFrom}`);
 * await lock.release();
 */
export async function acquireStateDirLock(dir: string, owner: string): Promise<StateDirLock> {
  const path = join(dir, STATE_DIR_LOCK_FILE);
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeWhole(temp, `${owner}\n`);
  let tookOverFrom: string | undefined;
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await link(temp, path);
        return lockHandle(path, owner, tookOverFrom);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = await readHolder(path);
      if (holder === undefined) continue; // released meanwhile: try again
      const liveness = holderLiveness(holder);
      if (liveness !== 'dead') throw new StateDirBusyError(dir, holder, liveness);
      // Move the dead holder's file aside, then check that it was the file we judged (another process may have
      // taken it over and written its own in between); if not, put it back.
      const aside = `${path}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
      try {
        await rename(path, aside);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw error;
      }
      const moved = await readHolder(aside);
      if (moved !== holder) {
        await link(aside, path).catch(() => undefined);
        await rm(aside, { force: true });
        continue;
      }
      await rm(aside, { force: true });
      tookOverFrom = holder;
    }
    const holder = (await readHolder(path)) ?? 'unknown';
    throw new StateDirBusyError(dir, holder, 'unknown');
  } finally {
    await rm(temp, { force: true });
  }
}

/** Liveness of a lock holder; our own pid in a file we do not hold is stale (pid reuse, e.g. a restarted container). */
function holderLiveness(holder: string): 'alive' | 'dead' | 'unknown' {
  const parsed = parseOwner(holder);
  if (parsed && parsed.host === hostname() && parsed.pid === process.pid) return 'dead';
  return ownerLiveness(holder);
}

function lockHandle(path: string, owner: string, tookOverFrom: string | undefined): StateDirLock {
  let released = false;
  return {
    owner,
    ...(tookOverFrom ? { tookOverFrom } : {}),
    async release() {
      if (released) return;
      released = true;
      if ((await readHolder(path)) === owner) await rm(path, { force: true });
    },
  };
}

async function readHolder(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function writeWhole(path: string, text: string): Promise<void> {
  const handle = await open(path, 'wx');
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}
