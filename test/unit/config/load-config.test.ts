import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/errors.js';
import { loadConfig, parseConfig } from '../../../src/config/load.js';
import { issueExampleConfig } from '../../fixtures/issue-example-config.js';

describe('config', () => {
  it('accepts the issue example and fills defaults', () => {
    const config = parseConfig(issueExampleConfig);
    expect(config.region).toBe('us-east-1');
    expect(config.tables[0]!.pipe).toMatchObject({ target: 'lake', flushMiB: 5, startingPosition: 'TRIM_HORIZON' });
  });

  it('names the bad field', () => {
    const bad = (raw: unknown) => {
      try {
        parseConfig(raw);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as ConfigError).field;
      }
      throw new Error('expected a ConfigError');
    };
    expect(bad({ tables: [{ name: 'visits', partitionKey: 'id', pipe: { batchSize: 0 } }] })).toBe(
      'tables.0.pipe.batchSize',
    );
    expect(bad({ tables: [{ name: 'x', partitionKey: 'id' }] })).toBe('tables.0.name');
    expect(
      bad({
        tables: [
          { name: 'visits', partitionKey: 'id' },
          { name: 'visits', partitionKey: 'id' },
        ],
      }),
    ).toBe('tables.1.name');
    // Filters are compiled with the event-pattern compiler: the path goes inside the pattern.
    expect(
      bad({
        tables: [
          {
            name: 'visits',
            partitionKey: 'id',
            pipe: { filter: [{ dynamodb: { NewImage: { n: { N: [{ numeric: ['>', 'x'] }] } } } }] },
          },
        ],
      }),
    ).toMatch(/^tables\.0\.pipe\.filter\[0\]\.dynamodb\.NewImage\.n\.N/);
  });

  it('a filter that no record can match is still valid', () => {
    expect(() =>
      parseConfig({ tables: [{ name: 'visits', partitionKey: 'id', pipe: { filter: [{ eventName: ['NEVER'] }] } }] }),
    ).not.toThrow();
  });

  it('falls back to the demo config only when no file was named', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'config-'));
    const cwd = process.cwd();
    try {
      process.chdir(dir);
      expect((await loadConfig()).source).toBe('built-in demo config');
      await expect(loadConfig('missing.json')).rejects.toBeInstanceOf(ConfigError);
      writeFileSync('broken.json', '{ nope');
      await expect(loadConfig('broken.json')).rejects.toThrow(/not valid JSON/);
    } finally {
      process.chdir(cwd);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
