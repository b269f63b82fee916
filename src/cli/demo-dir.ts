import { currentOwner } from '../local/process-owner.js';
import { acquireStateDirLock } from '../local/state-dir-lock.js';
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { DEFAULT_STATE_DIR } from '../local/state-dir.js';
import { UsageError } from './errors.js';

/** Marker file the demo writes into the directory it creates; only a marked directory is ever deleted. */
export const DEMO_MARKER = '.tributary-demo';

/** The demo's default state directory. */
export const DEFAULT_DEMO_DIR = join(DEFAULT_STATE_DIR, 'demo');

/**
 * What a state directory holds (src/local/state-dir.ts, the state-dir lock, SQLite's side files). Versions before the
 * marker wrote no marker: the default demo directory is recognised by holding nothing else.
 */
const STATE_ENTRY =
  /^(endpoints\.json(\.tmp-\d+)?|dynamodb|s3|lake|(dynamodb-streams|pipes|fhir|executions)\.sqlite(-wal|-shm|-journal)?|tributary\.lock(\..+)?)$/;

/** The demo wipes its state directory: never the working directory, one of its parents, or the home directory. */
function refuseToWipe(dir: string): void {
  const target = resolve(dir);
  const fromTarget = relative(target, process.cwd());
  const containsCwd = !fromTarget.startsWith('..') && !isAbsolute(fromTarget);
  if (containsCwd || target === resolve(homedir()))
    throw new UsageError(`--dir ${dir}: the demo wipes its state directory; choose a dedicated one`);
}

async function entriesOf(dir: string): Promise<string[] | undefined> {
  try {
    const info = await stat(dir);
    if (!info.isDirectory()) throw new UsageError(`--dir ${dir}: is a file, not a directory`);
    return await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Gives the demo a fresh state directory, deleting the previous one only if Tributary made it: a directory with the
 * {@link DEMO_MARKER}, an empty one, or the default `.tributary/demo` of an older version holding state files only.
 * Anything else is refused (UsageError, exit 2) and left as it is.
 *
 * @example
 * await prepareDemoDir('.tributary/demo'); // fresh, marked directory
 * await prepareDemoDir('my-project'); // UsageError: refusing to delete my-project: …
 */
export async function prepareDemoDir(dir: string): Promise<void> {
  refuseToWipe(dir);
  const entries = await entriesOf(dir);
  if (entries && entries.length > 0) {
    const ours =
      entries.includes(DEMO_MARKER) ||
      (resolve(dir) === resolve(DEFAULT_DEMO_DIR) && entries.every((entry) => STATE_ENTRY.test(entry)));
    if (!ours)
      throw new UsageError(
        `refusing to delete ${dir}: it was not created by tributary demo (no ${DEMO_MARKER} marker); ` +
          'choose another --dir or remove it yourself',
      );
    // A demo (or `up`) still running on it holds its lock: never wipe a live directory (StateDirBusyError, exit 3).
    const lock = await acquireStateDirLock(dir, currentOwner('demo'));
    await lock.release();
    await rm(dir, { recursive: true, force: true });
  }
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, DEMO_MARKER),
    'Created by `tributary demo`, which deletes this directory on its next run with the same --dir.\n',
  );
}
