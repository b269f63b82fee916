import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';

const withFilter = (...filter: unknown[]) => ({ tables: [{ name: 'visits', partitionKey: 'id', pipe: { filter } }] });

/** Loads a config from a file, as the CLI does, and returns its warnings. */
async function warningsOf(raw: unknown): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'config-warnings-'));
  try {
    const file = join(dir, 'tributary.config.json');
    writeFileSync(file, JSON.stringify(raw));
    const loaded = await loadConfig(file);
    return loaded.warnings;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('config warnings: numeric matchers on DynamoDB attribute values', () => {
  it('warns (without failing) for a numeric matcher on an N attribute of NewImage, OldImage or Keys', async () => {
    const warnings = await warningsOf(
      withFilter(
        { dynamodb: { NewImage: { age: { N: [{ numeric: ['>', 5] }] } } } },
        { dynamodb: { Keys: { id: { S: ['x', { numeric: ['=', 1] }] } } } },
        { $or: [{ eventName: ['INSERT'] }, { dynamodb: { OldImage: { n: { N: [{ numeric: ['<', 0] }] } } } }] },
      ),
    );
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toMatch(
      /^.*tributary\.config\.json: tables\.0\.pipe\.filter\[0\]\.dynamodb\.NewImage\.age\.N: a numeric matcher never matches/,
    );
    expect(warnings[0]).toMatch(/as strings/);
    expect(warnings[1]).toMatch(/filter\[1\]\.dynamodb\.Keys\.id\.S:/);
    expect(warnings[2]).toMatch(/filter\[2\]\.dynamodb\.OldImage\.n\.N:/);
  });

  it('does not warn for numeric matchers on fields that are numbers in the stream record, or for string matchers', async () => {
    expect(
      await warningsOf(
        withFilter(
          { dynamodb: { SizeBytes: [{ numeric: ['<', 1000] }] } },
          { dynamodb: { NewImage: { age: { N: ['42', { prefix: '4' }] } } } },
        ),
      ),
    ).toEqual([]);
    expect((await loadConfig()).warnings).toEqual([]); // the built-in demo config
  });
});

describe('config warnings: partitionBy attributes a stream view type does not carry', () => {
  const table = (stream: string, partitionBy: string[]) => ({
    tables: [{ name: 'visits', partitionKey: 'id', sortKey: 'at', stream, pipe: { partitionBy } }],
  });

  it('warns when deletes (NEW_IMAGE), inserts (OLD_IMAGE) or every record (KEYS_ONLY) cannot be partitioned', async () => {
    for (const [stream, which] of [
      ['NEW_IMAGE', 'deletes'],
      ['OLD_IMAGE', 'inserts'],
      ['KEYS_ONLY', 'any record'],
    ] as const) {
      const warnings = await warningsOf(table(stream, ['siteId', 'id', 'year', 'month']));
      expect(warnings, stream).toHaveLength(1);
      expect(warnings[0]).toContain(`tables.0: partitionBy siteId is read from the item's image`);
      expect(warnings[0]).toContain(`${stream} stream does not carry for ${which}`);
    }
  });

  it('says nothing for NEW_AND_OLD_IMAGES, or for key attributes and time parts only', async () => {
    expect(await warningsOf(table('NEW_AND_OLD_IMAGES', ['siteId', 'year']))).toEqual([]);
    expect(await warningsOf(table('KEYS_ONLY', ['id', 'at', 'year', 'month', 'day', 'hour', 'minute']))).toEqual([]);
    expect(await warningsOf(table('NEW_IMAGE', ['year', 'month', 'day']))).toEqual([]);
  });
});
