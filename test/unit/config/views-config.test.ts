import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { main } from '../../../src/cli/main.js';
import { DEFAULT_VIEW_FILES } from '../../../src/views/lake/load-views.js';

describe('config: views', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tributary-views-config-'));
    mkdirSync(join(dir, 'views'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('defaults to the shipped views, found from any working directory', async () => {
    const file = join(dir, 'tributary.config.json');
    writeFileSync(file, JSON.stringify({ tables: [] }));
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      expect((await loadConfig(file)).config.views).toEqual(DEFAULT_VIEW_FILES);
    } finally {
      process.chdir(cwd);
    }
  });

  it('reads view paths relative to the config file', async () => {
    writeFileSync(
      join(dir, 'views', 'ids.json'),
      JSON.stringify({ resource: 'Patient', select: [{ column: [{ name: 'id', path: 'id' }] }] }),
    );
    const file = join(dir, 'tributary.config.json');
    writeFileSync(file, JSON.stringify({ views: ['views/ids.json'] }));
    expect((await loadConfig(file)).config.views).toEqual([join(dir, 'views', 'ids.json')]);
  });

  it('an invalid ViewDefinition exits 2 with the file and the path of the bad element', async () => {
    writeFileSync(
      join(dir, 'views', 'bad.json'),
      JSON.stringify({
        resource: 'Patient',
        select: [
          {
            column: [
              { name: 'id', path: 'id' },
              { name: 'x', path: "nope('a')" },
            ],
          },
        ],
      }),
    );
    const file = join(dir, 'tributary.config.json');
    writeFileSync(file, JSON.stringify({ views: ['views/bad.json'] }));
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const code = await main(['node', 'tributary', 'views', 'rebuild', '--config', file, '--dir', join(dir, 'state')]);
      expect(code).toBe(2);
      expect(stderr.mock.calls.map((c) => String(c[0])).join('')).toContain(
        `${file}: views.0: views/bad.json: select[0].column[1].path: unknown function 'nope'`,
      );
    } finally {
      stderr.mockRestore();
    }
  });
});
