import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { removeOrphanedTempFiles } from '../../../src/local/object-store/orphaned-temp-files.js';
import { DirectoryObjectStore } from '../../../src/local/object-store/directory-object-store.js';
import { acquireStateDirLock, StateDirBusyError } from '../../../src/local/state-dir-lock.js';

/** The pid of a process that has exited (so it is dead). */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid!;
}

describe('state-directory lock and orphaned temp files', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'state-lock-'));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('is exclusive while the holder lives, names the holder, and is released on release()', async () => {
    const me = `sync:${hostname()}:${process.pid}`;
    const lock = await acquireStateDirLock(dir, me);
    expect((await readFile(join(dir, 'tributary.lock'), 'utf8')).trim()).toBe(me);
    // Another live holder (this process, as `up`) cannot take it.
    await writeFile(join(dir, 'tributary.lock'), `up:${hostname()}:${process.ppid}\n`);
    const busy = await acquireStateDirLock(dir, me).catch((error: unknown) => error);
    expect(busy).toBeInstanceOf(StateDirBusyError);
    expect((busy as Error).message).toBe(
      `state directory ${dir} is in use by up (pid ${process.ppid} on ${hostname()}); try again when it finishes`,
    );
    // release() only removes the file when it is still ours.
    await lock.release();
    expect(await readdir(dir)).toEqual(['tributary.lock']);
    await rm(join(dir, 'tributary.lock'));
    const again = await acquireStateDirLock(dir, me);
    await again.release();
    expect(await readdir(dir)).toEqual([]);
  });

  it("takes over a dead holder's lock at once and says whose; another host's lock is refused", async () => {
    const dead = `sync:${hostname()}:${deadPid()}`;
    await writeFile(join(dir, 'tributary.lock'), `${dead}\n`);
    const lock = await acquireStateDirLock(dir, `sync:${hostname()}:${process.pid}`);
    expect(lock.tookOverFrom).toBe(dead);
    await lock.release();
    await writeFile(join(dir, 'tributary.lock'), 'up:other-host:7\n');
    await expect(acquireStateDirLock(dir, `sync:${hostname()}:${process.pid}`)).rejects.toThrow(
      /locked by up \(pid 7 on other-host\), whose liveness cannot be checked from this host/,
    );
  });

  it("removes temp files of dead writers (and pre-pid ones), keeps live writers' and real objects", async () => {
    const store = new DirectoryObjectStore(join(dir, 'lake'));
    await store.put('fhir/Encounter/year=2026/a.ndjson.gz', 'x');
    const partition = join(dir, 'lake', 'fhir', 'Encounter', 'year=2026');
    await writeFile(join(partition, `.tmp-${deadPid()}-0123456789ab`), 'partial');
    await writeFile(join(partition, '.tmp-0123456789ab'), 'partial, older name');
    await writeFile(join(partition, `.tmp-${process.pid}-0123456789ab`), 'in flight');
    await mkdir(join(dir, 'lake', 'empty'), { recursive: true });
    expect(await removeOrphanedTempFiles(join(dir, 'lake'))).toBe(2);
    expect((await readdir(partition)).sort()).toEqual([`.tmp-${process.pid}-0123456789ab`, 'a.ndjson.gz']);
    expect(await removeOrphanedTempFiles(join(dir, 'missing'))).toBe(0);
  });
});
