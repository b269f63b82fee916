import { constants } from 'node:fs';
import { access as fsAccess, open, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { stateDirPaths } from './state-dir.js';

/**
 * Raised when a state directory cannot be used as asked: the path is a file, is not writable, or holds a state
 * file that is not a database. The message names the path and the problem, and says what to do; the CLI exits 2.
 *
 * @example
 * throw new StateDirError('--dir notes.txt: is a file, not a directory');
 */
export class StateDirError extends Error {
  public override readonly name = 'StateDirError';
}

/**
 * What a command does with its state directory: `create` writes it (and creates it when missing); `fresh` replaces it
 * with a new one (so its old state files are not checked); `open` writes it only if it exists (a missing one means
 * "no state yet"); `read` only reads it.
 */
export type StateDirUse = 'create' | 'fresh' | 'open' | 'read';

/** Checks that a path may be written, like `fs.access(path, W_OK | X_OK)`; injectable because root ignores modes. */
export type AccessCheck = (path: string, mode: number) => Promise<void>;

/** First bytes of every SQLite 3 database file. */
const SQLITE_HEADER = 'SQLite format 3\u0000';

/** The header's page size: a power of two from 512 to 32768, or 1 for 65536 (SQLite file format, §1.3.2). */
const validPageSize = (size: number) => size === 1 || (size >= 512 && size <= 32768 && (size & (size - 1)) === 0);

const errorCode = (error: unknown) => (error as NodeJS.ErrnoException).code ?? String(error);

async function statOrUndefined(path: string) {
  try {
    return await stat(path);
  } catch (error) {
    // ENOTDIR: a parent is a file; the ancestor walk below names it.
    if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return undefined;
    throw error;
  }
}

/**
 * The first SQLite state file in the directory that is not a database (a non-empty file without the SQLite header, or
 * with an impossible page size: what SQLite reports as "file is not a database"), if any. An empty file is fine: SQLite
 * makes it a database.
 *
 * With `openWithSqlite`, files whose header looks right are also opened read-only by SQLite (slower; for naming the
 * file after SQLite raised SQLITE_NOTADB).
 *
 * @example
 * await findNotADatabase('.tributary') // '/abs/.tributary/pipes.sqlite' when that file holds something else
 */
export async function findNotADatabase(
  dir: string,
  options: { openWithSqlite?: boolean } = {},
): Promise<string | undefined> {
  const paths = stateDirPaths(dir);
  for (const file of [paths.streams, paths.pipes, paths.fhir, paths.executions]) {
    const info = await statOrUndefined(file);
    if (!info?.isFile() || info.size === 0) continue;
    const handle = await open(file, 'r');
    try {
      const { buffer, bytesRead } = await handle.read(Buffer.alloc(18), 0, 18, 0);
      if (buffer.toString('latin1', 0, Math.min(bytesRead, 16)) !== SQLITE_HEADER) return file;
      if (bytesRead === 18 && !validPageSize(buffer.readUInt16BE(16))) return file;
    } finally {
      await handle.close();
    }
    if (options.openWithSqlite && (await sqliteSaysNotADatabase(file))) return file;
  }
  return undefined;
}

/** Asks SQLite itself, read-only (it creates nothing): used after SQLite raised SQLITE_NOTADB, to name the file. */
async function sqliteSaysNotADatabase(file: string): Promise<boolean> {
  const { default: Database } = await import('better-sqlite3');
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      db.pragma('schema_version');
    } finally {
      db.close();
    }
    return false;
  } catch (error) {
    return (error as { code?: unknown }).code === 'SQLITE_NOTADB';
  }
}

/**
 * The message for a state file that is not a database.
 *
 * @example
 * notADatabaseMessage('/abs/.tributary/pipes.sqlite')
 */
export function notADatabaseMessage(file: string): string {
  return `${file} is not a Tributary state file (file is not a database); move it aside or use another --dir`;
}

/**
 * Checks a `--dir` before a command uses it, so that a wrong path fails at once with exit 2 and a message naming the
 * path and the problem, instead of an error from deep inside LevelDB or SQLite. Creates nothing.
 *
 * @example
 * await checkStateDir('.tributary', 'create'); // throws StateDirError "--dir .tributary: is a file, not a directory"
 */
export async function checkStateDir(
  dir: string,
  use: StateDirUse,
  access: AccessCheck = (path, mode) => fsAccess(path, mode),
): Promise<void> {
  const writable = async (path: string) => {
    try {
      await access(path, constants.W_OK | constants.X_OK);
      return undefined;
    } catch (error) {
      return errorCode(error);
    }
  };
  const info = await statOrUndefined(dir);
  if (info) {
    if (!info.isDirectory()) throw new StateDirError(`--dir ${dir}: is a file, not a directory`);
    if (use !== 'read') {
      const problem = await writable(dir);
      if (problem) throw new StateDirError(`--dir ${dir}: not writable (${problem})`);
    }
    const notADatabase = use === 'create' || use === 'open' ? await findNotADatabase(dir) : undefined;
    if (notADatabase) throw new StateDirError(notADatabaseMessage(notADatabase));
    return;
  }
  if (use === 'open' || use === 'read') return; // nothing there: the command finds no state, and must not create any
  // The directory will be created: its nearest existing ancestor must be a writable directory.
  let ancestor = dirname(resolve(dir));
  let ancestorInfo = await statOrUndefined(ancestor);
  while (!ancestorInfo && dirname(ancestor) !== ancestor) {
    ancestor = dirname(ancestor);
    ancestorInfo = await statOrUndefined(ancestor);
  }
  if (ancestorInfo && !ancestorInfo.isDirectory())
    throw new StateDirError(`--dir ${dir}: cannot be created: ${ancestor} is a file, not a directory`);
  const problem = await writable(ancestor);
  if (problem) throw new StateDirError(`--dir ${dir}: cannot be created: ${ancestor} is not writable (${problem})`);
}
