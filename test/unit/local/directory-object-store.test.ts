import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DirectoryObjectStore, InvalidObjectKeyError } from '../../../src/local/object-store/directory-object-store.js';

describe('DirectoryObjectStore stays inside its root', () => {
  let dir: string;
  let store: DirectoryObjectStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'object-store-'));
    await mkdir(join(dir, 'secret'), { recursive: true });
    await writeFile(join(dir, 'secret', 'pw.txt'), 'outside');
    store = new DirectoryObjectStore(join(dir, 'root'));
    await store.put('lake/a/1.json', '{}');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const listed = async (prefix: string) => {
    const keys: string[] = [];
    for await (const { key } of store.list(prefix)) keys.push(key);
    return keys;
  };

  it('refuses keys that leave the root', async () => {
    for (const key of ['../secret/pw.txt', '/etc/passwd', 'a/../../secret/pw.txt'])
      await expect(store.get(key), key).rejects.toBeInstanceOf(InvalidObjectKeyError);
  });

  it('refuses list prefixes that leave the root, and lists inside it', async () => {
    for (const prefix of ['../', '../secret/', '/etc/', 'lake/../../secret/'])
      await expect(listed(prefix), prefix).rejects.toBeInstanceOf(InvalidObjectKeyError);
    expect(await listed('')).toEqual(['lake/a/1.json']);
    expect(await listed('lake/')).toEqual(['lake/a/1.json']);
    expect(await listed('lake/a/1')).toEqual(['lake/a/1.json']);
    expect(await listed('nothing/')).toEqual([]);
  });
});
