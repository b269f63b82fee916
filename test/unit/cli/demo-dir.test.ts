import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/cli/errors.js';
import { DEMO_MARKER, prepareDemoDir } from '../../../src/cli/demo-dir.js';
import { formatOwner } from '../../../src/local/process-owner.js';
import { STATE_DIR_LOCK_FILE, StateDirBusyError } from '../../../src/local/state-dir-lock.js';

let root: string;
const cwd = process.cwd();

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'demo-dir-'));
});

afterEach(() => {
  process.chdir(cwd);
  rmSync(root, { recursive: true, force: true });
});

describe('prepareDemoDir', () => {
  it('creates a missing directory with the marker, and on a re-run deletes its own marked directory', async () => {
    const dir = join(root, 'a', 'demo');
    await prepareDemoDir(dir);
    expect(readdirSync(dir)).toEqual([DEMO_MARKER]);
    mkdirSync(join(dir, 'lake'));
    writeFileSync(join(dir, 'pipes.sqlite'), '');
    writeFileSync(join(dir, 'anything-the-demo-wrote'), '');
    await prepareDemoDir(dir);
    expect(readdirSync(dir)).toEqual([DEMO_MARKER]);
  });

  it('never wipes its own marked directory while a live process holds it (a demo or up still running)', async () => {
    const dir = join(root, 'live');
    await prepareDemoDir(dir);
    writeFileSync(join(dir, 'pipes.sqlite'), '');
    // Held by another live process on this host (our parent), as a running demo would hold it.
    writeFileSync(
      join(dir, STATE_DIR_LOCK_FILE),
      `${formatOwner({ role: 'demo', host: hostname(), pid: process.ppid })}\n`,
    );
    await expect(prepareDemoDir(dir)).rejects.toBeInstanceOf(StateDirBusyError);
    expect(readdirSync(dir).sort()).toEqual([DEMO_MARKER, 'pipes.sqlite', STATE_DIR_LOCK_FILE].sort());
  });

  it('uses an existing empty directory, and marks it', async () => {
    const dir = join(root, 'empty');
    mkdirSync(dir);
    await prepareDemoDir(dir);
    expect(readdirSync(dir)).toEqual([DEMO_MARKER]);
  });

  it('refuses an unmarked non-empty directory, even one holding only state files, and leaves it as it is', async () => {
    const dir = join(root, 'state');
    mkdirSync(join(dir, 'dynamodb'), { recursive: true });
    writeFileSync(join(dir, 'pipes.sqlite'), '');
    await expect(prepareDemoDir(dir)).rejects.toThrow(UsageError);
    await expect(prepareDemoDir(dir)).rejects.toThrow(/refusing to delete .*no \.tributary-demo marker/);
    expect(readdirSync(dir).sort()).toEqual(['dynamodb', 'pipes.sqlite']);
  });

  it('recognises the default .tributary/demo of an older version (state files only, no marker)', async () => {
    process.chdir(root);
    const dir = join('.tributary', 'demo');
    mkdirSync(join(dir, 'dynamodb'), { recursive: true });
    mkdirSync(join(dir, 'lake', 'changes'), { recursive: true });
    for (const file of ['pipes.sqlite', 'pipes.sqlite-wal', 'fhir.sqlite', 'endpoints.json'])
      writeFileSync(join(dir, file), '');
    await prepareDemoDir(dir);
    expect(readdirSync(dir)).toEqual([DEMO_MARKER]);

    // …but not when anything else is in it.
    rmSync(join(dir, DEMO_MARKER));
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    await expect(prepareDemoDir(dir)).rejects.toThrow(/refusing to delete/);
    expect(existsSync(join(dir, 'notes.txt'))).toBe(true);
  });

  it('never wipes the working directory or a parent of it, even when marked', async () => {
    process.chdir(root);
    writeFileSync(DEMO_MARKER, '');
    await expect(prepareDemoDir('.')).rejects.toThrow(/choose a dedicated one/);
    expect(existsSync(DEMO_MARKER)).toBe(true);
  });
});
