import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isProcessAlive } from '../process-owner.js';
import { TEMP_MARK } from './directory-object-store.js';

/**
 * Removes temporary files that {@link DirectoryObjectStore} writers left behind when their process died before the
 * rename (`.tmp-<pid>-<random>`, or `.tmp-<random>` from older versions): files of a live pid other than this one are
 * kept. Call it at startup while holding the state-directory lock. Returns how many were removed.
 *
 * @example
 * const removed = await removeOrphanedTempFiles(lake.root);
 */
export async function removeOrphanedTempFiles(root: string): Promise<number> {
  let removed = 0;
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    for (const entry of entries) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.name.startsWith(TEMP_MARK) && isOrphaned(entry.name)) {
        await rm(full, { force: true });
        removed += 1;
      }
    }
  };
  await walk(root);
  return removed;
}

function isOrphaned(name: string): boolean {
  const pid = /^\.tmp-(\d+)-[0-9a-f]+$/.exec(name)?.[1];
  if (pid === undefined) return true; // a leftover of a version without the pid in the name
  return Number(pid) !== process.pid && !isProcessAlive(Number(pid));
}
