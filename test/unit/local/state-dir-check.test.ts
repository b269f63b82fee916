import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkStateDir, findNotADatabase, StateDirError } from '../../../src/local/state-dir-check.js';

let root: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'state-dir-check-'));
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

/** An access check that refuses writes, as a read-only mount or a directory of another user does. */
const denyWrites = () => Promise.reject(Object.assign(new Error('permission denied'), { code: 'EACCES' }));

describe('checkStateDir', () => {
  it('names a directory that is not writable (injected: root ignores file modes)', async () => {
    const dir = join(root, 'state');
    mkdirSync(dir);
    await expect(checkStateDir(dir, 'create', denyWrites)).rejects.toThrow(
      new StateDirError(`--dir ${dir}: not writable (EACCES)`),
    );
    await expect(checkStateDir(dir, 'read', denyWrites)).resolves.toBeUndefined();
    await expect(checkStateDir(join(dir, 'new'), 'create', denyWrites)).rejects.toThrow(
      `--dir ${join(dir, 'new')}: cannot be created: ${dir} is not writable (EACCES)`,
    );
    // A read-only command on a missing directory checks nothing it would not create.
    await expect(checkStateDir(join(dir, 'new'), 'open', denyWrites)).resolves.toBeUndefined();
  });

  it('accepts a fresh path, an empty directory, and real or empty SQLite files; creates nothing', async () => {
    await expect(checkStateDir(join(root, 'a', 'b'), 'create')).resolves.toBeUndefined();
    const dir = join(root, 'state');
    mkdirSync(dir);
    new Database(join(dir, 'pipes.sqlite')).exec('create table t (x)');
    writeFileSync(join(dir, 'fhir.sqlite'), '');
    await expect(checkStateDir(dir, 'create')).resolves.toBeUndefined();
    expect(await findNotADatabase(join(root, 'a'))).toBeUndefined();
  });

  it('finds a SQLite state file that holds something else', async () => {
    const dir = join(root, 'state');
    mkdirSync(dir);
    writeFileSync(join(dir, 'executions.sqlite'), '{"not": "sqlite"}');
    expect(await findNotADatabase(dir)).toBe(join(dir, 'executions.sqlite'));
    await expect(checkStateDir(dir, 'open')).rejects.toThrow(/executions\.sqlite is not a Tributary state file/);
    // A SQLite header over a page size SQLite rejects is no database either.
    writeFileSync(join(dir, 'executions.sqlite'), '');
    writeFileSync(
      join(dir, 'pipes.sqlite'),
      Buffer.concat([Buffer.from('SQLite format 3\u0000', 'latin1'), Buffer.alloc(84, 0xff)]),
    );
    expect(await findNotADatabase(dir)).toBe(join(dir, 'pipes.sqlite'));
    // The demo replaces its directory: what was in it does not matter.
    await expect(checkStateDir(dir, 'fresh')).resolves.toBeUndefined();
  });
});
