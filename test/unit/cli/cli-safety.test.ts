import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../../src/cli/main.js';
import { inProcessCli } from './run-main.js';

const cli = inProcessCli('cli-safety-');

const writeConfig = (config: unknown) => {
  const file = join(cli.root, 'tributary.config.json');
  writeFileSync(file, JSON.stringify(config));
  return file;
};

describe('CLI: config safety', () => {
  it('a misspelled config key exits 2, naming the key and the one it probably meant, before touching --dir', async () => {
    const config = writeConfig({
      tables: [{ name: 'visits', partitionKey: 'id', pipe: { fliter: [{ eventName: ['INSERT'] }] } }],
    });
    const dir = join(cli.root, 'state');
    expect(await cli.run('runs', '--config', config, '--dir', dir)).toBe(EXIT.usage);
    expect(cli.stderr).toContain("tables.0.pipe: unknown key 'fliter' (did you mean 'filter'?)");
    expect(existsSync(dir)).toBe(false);
  });

  it('a numeric matcher on a DynamoDB attribute is a warning on stderr, not an error', async () => {
    const config = writeConfig({
      tables: [
        {
          name: 'visits',
          partitionKey: 'id',
          pipe: { filter: [{ dynamodb: { NewImage: { age: { N: [{ numeric: ['>', 5] }] } } } }] },
        },
      ],
    });
    expect(await cli.run('runs', '--config', config, '--dir', join(cli.root, 'state'))).toBe(EXIT.ok);
    expect(cli.stderr).toMatch(
      /tributary: warning: .*filter\[0\]\.dynamodb\.NewImage\.age\.N: a numeric matcher never matches/,
    );
  });
});

describe('CLI: --dir checks', () => {
  it('--dir naming a file exits 2 with the path and the problem, for reading and writing commands', async () => {
    const file = join(cli.root, 'notes.txt');
    writeFileSync(file, 'my notes');
    for (const command of [['runs'], ['query', '--views'], ['sync', '--no-export'], ['seed'], ['demo']]) {
      cli.stderr = '';
      expect(await cli.run(...command, '--dir', file), command[0]).toBe(EXIT.usage);
      expect(cli.stderr, command[0]).toContain(`--dir ${file}: is a file, not a directory`);
    }
    expect(await cli.run('sync', '--no-export', '--dir', join(file, 'sub'))).toBe(EXIT.usage);
    expect(cli.stderr).toContain(`cannot be created: ${file} is a file, not a directory`);
    expect(readFileSync(file, 'utf8')).toBe('my notes');
  });

  it('a state file that is not a database exits 2 naming the file and what to do', async () => {
    const dir = join(cli.root, 'state');
    mkdirSync(dir);
    writeFileSync(join(dir, 'pipes.sqlite'), 'these are not the checkpoints you are looking for');
    expect(await cli.run('sync', '--no-export', '--dir', dir)).toBe(EXIT.usage);
    expect(cli.stderr).toContain(
      `${join(dir, 'pipes.sqlite')} is not a Tributary state file (file is not a database); move it aside or use another --dir`,
    );
  });
  it('names the file too when only SQLite itself can tell it is not a database', async () => {
    const dir = join(cli.root, 'state');
    mkdirSync(dir);
    // A SQLite header with a plausible page size, but payload fractions SQLite rejects: the quick check passes.
    const page = Buffer.alloc(4096);
    page.write('SQLite format 3\u0000', 0, 'latin1');
    page.writeUInt16BE(4096, 16);
    page.set([1, 1, 0, 99, 32, 32], 18);
    writeFileSync(join(dir, 'pipes.sqlite'), page);
    expect(await cli.run('sync', '--no-export', '--dir', dir)).toBe(EXIT.usage);
    expect(cli.stderr).toContain(`${join(dir, 'pipes.sqlite')} is not a Tributary state file (file is not a database)`);
  });
});

describe('CLI: read-only commands create no state', () => {
  it('`query` and `runs` on a missing directory create nothing; `runs` says there are no runs there', async () => {
    const dir = join(cli.root, 'fresh');
    expect(await cli.run('query', '--views', '--dir', dir)).toBe(EXIT.ok);
    expect(await cli.run('runs', '--dir', dir)).toBe(EXIT.ok);
    expect(cli.stdout).toContain(`no export runs yet in ${dir}`);
    expect(await cli.run('runs', '--format', 'json', '--dir', dir)).toBe(EXIT.ok);
    expect(cli.stdout).toContain('[]');
    expect(existsSync(dir)).toBe(false);
  });

  it("`runs` on the default directory points to the demo's runs when only the demo has state", async () => {
    const cwd = process.cwd();
    try {
      process.chdir(cli.root);
      mkdirSync(join('.tributary', 'demo', 'dynamodb'), { recursive: true });
      expect(await cli.run('runs')).toBe(EXIT.ok);
      expect(cli.stdout).toContain("the demo's runs are in .tributary/demo: tributary runs --dir .tributary/demo");
      expect(readdirSync('.tributary')).toEqual(['demo']);
    } finally {
      process.chdir(cwd);
    }
  });

  it('`runs` on an existing directory without state adds no file to it', async () => {
    const dir = join(cli.root, 'empty');
    mkdirSync(dir);
    expect(await cli.run('runs', '--dir', dir)).toBe(EXIT.ok);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('CLI: demo never deletes a directory it did not create', () => {
  it('refuses an existing, unmarked, non-empty --dir with exit 2 and keeps its files', async () => {
    const dir = join(cli.root, 'my-project');
    mkdirSync(join(dir, 'src'), { recursive: true });
    writeFileSync(join(dir, 'src', 'main.ts'), 'precious');
    expect(await cli.run('demo', '--dir', dir)).toBe(EXIT.usage);
    expect(cli.stderr).toContain(
      `refusing to delete ${dir}: it was not created by tributary demo (no .tributary-demo marker); choose another --dir or remove it yourself`,
    );
    expect(readFileSync(join(dir, 'src', 'main.ts'), 'utf8')).toBe('precious');
  });
});
