import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LakeQuery, QueryError } from '../../../src/query/lake-query.js';
import { formatResult } from '../../../src/query/format.js';

const ndjson = (rows: unknown[]) => gzipSync(rows.map((r) => JSON.stringify(r)).join('\n') + '\n');

describe('LakeQuery views', () => {
  let lake: string;
  beforeAll(() => {
    lake = mkdtempSync(join(tmpdir(), 'lake-'));
    const put = (path: string, rows: unknown[]) => {
      mkdirSync(join(lake, path, '..'), { recursive: true });
      writeFileSync(join(lake, path), ndjson(rows));
    };
    const visitCreated = {
      op: 'c',
      table: 'visits',
      keys: { id: 'a' },
      before: null,
      after: { id: 'a', n: 1 },
      eventId: 'e1',
      seq: '1',
      ts: '2024-03-05T00:00:00.000Z',
    };
    put('changes/visits/siteId=2/year=2024/month=03/day=05/a.ndjson.gz', [visitCreated]);
    const patient = (id: string, v: string, at: string, family: string) => ({
      resourceType: 'Patient',
      id,
      meta: { versionId: v, lastUpdated: at },
      name: [{ family }],
    });
    put('fhir/Patient/year=2024/month=01/day=01/j1.ndjson.gz', [
      patient('p1', '1', '2024-01-01T00:00:00Z', 'Old'),
      patient('p2', '1', '2024-01-01T00:00:00Z', 'Gone'),
    ]);
    put('fhir/Patient/year=2024/month=02/day=01/j2.ndjson.gz', [
      patient('p1', '2', '2024-02-01T00:00:00Z', 'New'),
      {
        resourceType: 'Patient',
        id: 'p2',
        meta: { lastUpdated: '2024-02-01T00:00:00Z' },
        _tombstone: true,
        _deletedAt: '2024-02-01T00:00:00Z',
      },
    ]);
    // The same version landed twice (a failed run's window exported again).
    put('fhir/Patient/year=2024/month=02/day=01/j3.ndjson.gz', [patient('p1', '2', '2024-02-01T00:00:00Z', 'New')]);
    // The same change delivered twice (at-least-once): the view shows it once.
    put('changes/visits/siteId=2/year=2024/month=03/day=05/b.ndjson.gz', [visitCreated]);
    put('fhir/Observation/year=2024/month=02/day=01/j2.ndjson.gz', [
      {
        resourceType: 'Observation',
        id: 'o1',
        meta: { versionId: '1', lastUpdated: '2024-02-01T00:00:00Z' },
        status: 'final',
      },
    ]);
  });
  afterAll(() => rmSync(lake, { recursive: true, force: true }));

  it('offers a view per dataset', async () => {
    const query = await LakeQuery.open(lake);
    try {
      expect(query.views.map((v) => v.name).sort()).toEqual([
        'changes_visits',
        'errors',
        'events',
        'fhir_observation',
        'fhir_observation_history',
        'fhir_patient',
        'fhir_patient_history',
      ]);
      const { rows } = await query.run('select siteId, year, month, op from changes_visits');
      expect(rows).toEqual([{ siteId: '2', year: '2024', month: '03', op: 'c' }]);
    } finally {
      await query.close();
    }
  });

  it('fhir_<type> holds the latest version and hides tombstoned resources; _history keeps all', async () => {
    const query = await LakeQuery.open(lake);
    try {
      const current = await query.run('select id, name[1].family as family from fhir_patient order by id');
      expect(current.rows).toEqual([{ id: 'p1', family: 'New' }]);
      const history = await query.run('select count(*)::INT as n from fhir_patient_history');
      expect(history.rows).toEqual([{ n: 4 }]);
      // A type with no deletions has no _tombstone column and still works.
      expect((await query.run('select id from fhir_observation')).rows).toEqual([{ id: 'o1' }]);
    } finally {
      await query.close();
    }
  });

  it('reports bad SQL with the available views', async () => {
    const query = await LakeQuery.open(lake);
    try {
      await expect(query.run('select * from nope')).rejects.toThrow(QueryError);
      await expect(query.run('select * from nope')).rejects.toThrow(/available views: .*changes_visits/);
    } finally {
      await query.close();
    }
  });

  it('runs several statements in order and answers with the last one', async () => {
    const query = await LakeQuery.open(lake);
    try {
      expect((await query.run('select 1 as a; select 2 as b')).rows).toEqual([{ b: 2 }]);
      const created = await query.run('create temp table t as select 41 as x; select 2 as b; select x + 1 as y from t');
      expect(created).toEqual({ columns: ['y'], rows: [{ y: 42 }] });
      await expect(query.run('select 1; select * from nope')).rejects.toThrow(QueryError);
      await expect(query.run('  ;  ')).rejects.toThrow(/no SQL statement/);
    } finally {
      await query.close();
    }
  });

  it('formats tables, JSON and CSV', () => {
    const result = {
      columns: ['a', 'b'],
      rows: [
        { a: 1, b: 'x,"y"' },
        { a: null, b: { c: 1 } },
      ],
    };
    expect(JSON.parse(formatResult(result, 'json'))).toEqual(result.rows);
    expect(formatResult(result, 'csv')).toBe('a,b\n1,"x,""y"""\n,"{""c"":1}"');
    expect(formatResult(result, 'table')).toContain('(2 rows)');
  });

  it('formats a table of many rows (no argument spread over the rows)', () => {
    const rows = Array.from({ length: 200_000 }, (_, i) => ({ n: i }));
    const table = formatResult({ columns: ['n'], rows }, 'table');
    expect(table.endsWith('(200000 rows)')).toBe(true);
    expect(table.split('\n')[1]).toBe('──────'); // widest cell: '199999'
  });
});
