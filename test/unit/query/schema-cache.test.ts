import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LakeQuery } from '../../../src/query/lake-query.js';
import { viewsNamedIn } from '../../../src/query/lake-views.js';
import { addsNothing, compareListing, SCHEMA_CACHE_FILE } from '../../../src/query/schema-cache.js';
import { T } from '../../../src/query/sql-type.js';
import type { Column } from '../../../src/query/types.js';
import { testLake, truncatedGzip, type TestLake } from './lake-fixture.js';

const day = (d: string) => `year=2024/month=03/day=${d}`;
const change = (id: string, after: Record<string, unknown>) => ({
  op: 'c',
  table: 'visits',
  keys: { id },
  before: null,
  after: { id, ...after },
  eventId: `e-${id}`,
  seq: '1',
  ts: '2024-03-01T00:00:00.000Z',
});

async function columnsOf(lake: string, view: string, options: { sql?: string } = {}) {
  const query = await LakeQuery.open(lake, options);
  try {
    const { columns, rows } = await query.run(`SELECT * FROM ${view} ORDER BY 1`);
    return { columns, rows, warnings: query.warnings, views: query.views.map((v) => v.name) };
  } finally {
    await query.close();
  }
}

const cached = (lake: string) =>
  JSON.parse(readFileSync(join(lake, SCHEMA_CACHE_FILE), 'utf8')) as {
    datasets: Record<string, { files: Record<string, unknown>; readable: string[] | null }>;
  };

describe('schema cache of the query views', () => {
  let lake: TestLake;
  beforeEach(() => (lake = testLake()));
  afterEach(() => lake.remove());

  it('is written on the first open and gives the same views and rows on the next', async () => {
    lake.put(`changes/visits/${day('01')}/a.ndjson.gz`, [change('a', { n: 1 })]);
    lake.put(`fhir/Patient/${day('01')}/p.ndjson.gz`, [{ resourceType: 'Patient', id: 'p1' }]);
    const first = await columnsOf(lake.dir, 'changes_visits');
    expect(Object.keys(cached(lake.dir).datasets).sort()).toEqual(['changes/visits', 'fhir/Patient']);
    expect(await columnsOf(lake.dir, 'changes_visits')).toEqual(first);
  });

  it('an open with the same files takes the columns from the cache, not from the files', async () => {
    lake.put(`changes/visits/${day('01')}/a.ndjson.gz`, [change('a', { n: 1 })]);
    await columnsOf(lake.dir, 'changes_visits');
    const file = join(lake.dir, SCHEMA_CACHE_FILE);
    const cache = JSON.parse(readFileSync(file, 'utf8')) as { datasets: Record<string, { columns: unknown[] }> };
    cache.datasets['changes/visits']!.columns.push(['from_cache', T.varchar]);
    writeFileSync(file, JSON.stringify(cache));
    expect((await columnsOf(lake.dir, 'changes_visits')).columns).toContain('from_cache');
  });

  it('files added with the cached columns extend the entry; a new column is detected over every file', async () => {
    lake.put(`changes/visits/${day('01')}/a.ndjson.gz`, [change('a', { n: 1 })]);
    await columnsOf(lake.dir, 'changes_visits');
    lake.put(`changes/visits/${day('02')}/b.ndjson.gz`, [change('b', { n: 2 })]);
    const same = await columnsOf(lake.dir, 'changes_visits');
    expect(same.rows).toHaveLength(2);
    expect(Object.keys(cached(lake.dir).datasets['changes/visits']!.files)).toHaveLength(2);
    lake.put(`changes/visits/${day('03')}/c.ndjson.gz`, [{ ...change('c', { n: 3 }), extra: 'x' }]);
    const wider = await columnsOf(lake.dir, 'changes_visits');
    expect(wider.columns).toContain('extra');
    expect(wider.rows).toHaveLength(3);
  });

  it('a file rewritten in place (another size) is detected again', async () => {
    const path = `fhir/Patient/${day('01')}/p.ndjson.gz`;
    lake.put(path, [{ resourceType: 'Patient', id: 'p1' }]);
    expect((await columnsOf(lake.dir, 'fhir_patient')).columns).not.toContain('gender');
    lake.put(path, [{ resourceType: 'Patient', id: 'p1', gender: 'female', birthDate: '1970-01-01' }]);
    expect((await columnsOf(lake.dir, 'fhir_patient')).columns).toContain('gender');
  });

  it('a removed file makes the dataset detect again', async () => {
    lake.put(`fhir/Patient/${day('01')}/a.ndjson.gz`, [{ resourceType: 'Patient', id: 'p1', gender: 'male' }]);
    lake.put(`fhir/Patient/${day('02')}/b.ndjson.gz`, [{ resourceType: 'Patient', id: 'p2' }]);
    expect((await columnsOf(lake.dir, 'fhir_patient')).columns).toContain('gender');
    rmSync(join(lake.dir, `fhir/Patient/${day('01')}/a.ndjson.gz`));
    expect((await columnsOf(lake.dir, 'fhir_patient')).columns).not.toContain('gender');
  });

  it('forgets datasets whose folder is gone', async () => {
    lake.put(`changes/visits/${day('01')}/a.ndjson.gz`, [change('a', { n: 1 })]);
    lake.put(`fhir/Patient/${day('01')}/p.ndjson.gz`, [{ resourceType: 'Patient', id: 'p1' }]);
    await columnsOf(lake.dir, 'fhir_patient');
    rmSync(join(lake.dir, 'changes'), { recursive: true });
    await columnsOf(lake.dir, 'fhir_patient');
    expect(Object.keys(cached(lake.dir).datasets)).toEqual(['fhir/Patient']);
  });

  it('the warning of an unreadable file comes back from the cache, and the file stays left out', async () => {
    lake.put(`fhir/Patient/${day('01')}/good.ndjson.gz`, [{ resourceType: 'Patient', id: 'p1' }]);
    lake.putBytes(`fhir/Patient/${day('02')}/bad.ndjson.gz`, truncatedGzip([{ resourceType: 'Patient', id: 'p2' }]));
    const first = await columnsOf(lake.dir, 'fhir_patient');
    expect(cached(lake.dir).datasets['fhir/Patient']!.readable).toEqual([`fhir/Patient/${day('01')}/good.ndjson.gz`]);
    const second = await columnsOf(lake.dir, 'fhir_patient');
    expect(second.warnings).toEqual(first.warnings);
    expect(second.warnings).toHaveLength(1);
    expect(second.rows).toHaveLength(1);
  });

  it('with SQL, only the views it names are created; the others are listed', async () => {
    lake.put(`changes/visits/${day('01')}/a.ndjson.gz`, [change('a', { n: 1 })]);
    lake.put(`fhir/Patient/${day('01')}/p.ndjson.gz`, [{ resourceType: 'Patient', id: 'p1' }]);
    const query = await LakeQuery.open(lake.dir, { sql: 'select count(*) from FHIR_PATIENT' });
    try {
      expect(query.views.map((v) => v.name)).toEqual(
        expect.arrayContaining(['changes_visits', 'fhir_patient', 'fhir_patient_history', 'events', 'errors']),
      );
      expect((await query.run('select count(*) as n from fhir_patient')).rows).toEqual([{ n: 1 }]);
      await expect(query.run('select * from changes_visits')).rejects.toThrow(/changes_visits/);
    } finally {
      await query.close();
    }
  });

  it('a lake it cannot write to is queried without a cache', async () => {
    lake.put(`fhir/Patient/${day('01')}/p.ndjson.gz`, [{ resourceType: 'Patient', id: 'p1' }]);
    chmodSync(lake.dir, 0o555);
    try {
      expect((await columnsOf(lake.dir, 'fhir_patient')).rows).toHaveLength(1);
    } finally {
      chmodSync(lake.dir, 0o755);
    }
    // root ignores the mode bits; elsewhere nothing could be written.
    if (process.getuid?.() !== 0) expect(existsSync(join(lake.dir, SCHEMA_CACHE_FILE))).toBe(false);
  });
});

describe('schema cache rules', () => {
  it('compares listings: same, only added, or changed', () => {
    expect(compareListing({ a: [1, 1] }, { a: [1, 1] })).toEqual({ kind: 'same' });
    expect(compareListing({ a: [1, 1] }, { a: [1, 1], b: [2, 2] })).toEqual({ kind: 'added', added: ['b'] });
    expect(compareListing({ a: [1, 1] }, { a: [1, 2] })).toEqual({ kind: 'changed' });
    expect(compareListing({ a: [1, 1], b: [2, 2] }, { a: [1, 1] })).toEqual({ kind: 'changed' });
  });

  it('added columns change nothing only when each is cached with the same type', () => {
    const cachedColumns: Column[] = [
      ['id', T.varchar],
      ['n', T.bigint],
    ];
    expect(addsNothing([['id', T.varchar]], cachedColumns)).toBe(true);
    expect(addsNothing([['n', T.varchar]], cachedColumns)).toBe(false);
    expect(addsNothing([['x', T.varchar]], cachedColumns)).toBe(false);
  });

  it('finds view names in SQL as words, in any case', () => {
    expect(viewsNamedIn(undefined)(['anything'])).toBe(true);
    expect(viewsNamedIn('SELECT * FROM "Changes_Visits"')(['changes_visits'])).toBe(true);
    expect(viewsNamedIn('select * from changes_visits_2')(['changes_visits'])).toBe(false);
    expect(viewsNamedIn('select 1')(['fhir_patient', 'fhir_patient_history'])).toBe(false);
    // Catalog queries name no view but list them: every view is created.
    for (const sql of ['SHOW TABLES', 'select table_name from information_schema.tables', 'FROM duckdb_views()'])
      expect(viewsNamedIn(sql)(['changes_visits']), sql).toBe(true);
  });
});
