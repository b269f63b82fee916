import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LakeQuery } from '../../../src/query/lake-query.js';
import { testLake, truncatedGzip, type TestLake } from './lake-fixture.js';

const day = (d: string) => `year=2024/month=02/day=${d}`;
const tombstone = (id: string, at: string) => ({
  resourceType: 'Patient',
  id,
  meta: { lastUpdated: at },
  _tombstone: true,
  _deletedAt: at,
});

async function withQuery<T>(lake: string, use: (query: LakeQuery) => Promise<T>): Promise<T> {
  const query = await LakeQuery.open(lake);
  try {
    return await use(query);
  } finally {
    await query.close();
  }
}

describe('views over real data', () => {
  let lake: TestLake;
  beforeEach(() => (lake = testLake()));
  afterEach(() => lake.remove());

  it('a resource type holding only tombstones gives working (empty current) views', async () => {
    lake.put(`fhir/Patient/${day('01')}/t.ndjson.gz`, [tombstone('p1', '2024-02-01T00:00:00Z')]);
    await withQuery(lake.dir, async (query) => {
      expect(query.warnings).toEqual([]);
      expect((await query.run('select 42 as n')).rows).toEqual([{ n: 42 }]);
      expect((await query.run('select id, meta.versionId as v from fhir_patient_history')).rows).toEqual([
        { id: 'p1', v: null },
      ]);
      expect((await query.run('select count(*) as n from fhir_patient')).rows).toEqual([{ n: 0 }]);
    });
  });

  it('resources without meta: the later export is current, both versions are in the history', async () => {
    // The SMART reference Bulk Data server sends no meta; the export time in the file name orders versions.
    const v1 = { resourceType: 'Patient', id: 'p1', gender: 'female' };
    const v2 = { resourceType: 'Patient', id: 'p1', gender: 'other' };
    lake.put(`fhir/Patient/${day('02')}/20240202T000000.000Z_job-2_Patient_0000.ndjson.gz`, [v2]);
    lake.put(`fhir/Patient/${day('01')}/20240201T000000.000Z_job-1_Patient_0000.ndjson.gz`, [
      v1,
      { resourceType: 'Patient', id: 'p2', gender: 'male' },
    ]);
    // The first export retried: the same content again, later, is not a new version.
    lake.put(`fhir/Patient/${day('01')}/20240201T000500.000Z_job-1b_Patient_0000.ndjson.gz`, [v1]);
    await withQuery(lake.dir, async (query) => {
      expect(query.warnings).toEqual([]);
      const current = await query.run('select id, gender, _export_time::VARCHAR as t from fhir_patient order by id');
      expect(current.rows).toEqual([
        { id: 'p1', gender: 'other', t: '2024-02-02 00:00:00' },
        { id: 'p2', gender: 'male', t: '2024-02-01 00:00:00' },
      ]);
      const history = await query.run(
        "select gender, _export_time::VARCHAR as t from fhir_patient_history where id = 'p1' order by _export_time",
      );
      expect(history.rows).toEqual([
        { gender: 'female', t: '2024-02-01 00:00:00' },
        { gender: 'other', t: '2024-02-02 00:00:00' },
      ]);
    });
  });

  it('orders by export, then meta.lastUpdated, then numeric versionId; files without an export time count as oldest', async () => {
    const patient = (v: string, at: string, gender: string) => ({
      resourceType: 'Patient',
      id: 'p1',
      meta: { versionId: v, lastUpdated: at },
      gender,
    });
    // Older lake file (no export-time prefix) with a *later* lastUpdated: still older than any named export.
    lake.put(`fhir/Patient/${day('09')}/old.ndjson.gz`, [patient('8', '2024-02-09T00:00:00Z', 'old-file')]);
    lake.put(`fhir/Patient/${day('01')}/20240201T000000.000Z_j_Patient_0.ndjson.gz`, [
      patient('9', '2024-02-01T00:00:00Z', 'v9'),
      patient('10', '2024-02-01T00:00:00Z', 'v10'), // same lastUpdated: versionId 10 > 9 numerically
      { ...tombstone('p2', '2024-02-01T00:00:00Z') },
    ]);
    lake.put(`fhir/Patient/${day('01')}/20240201T000000.000Z_j_Patient_1.ndjson.gz`, [
      { resourceType: 'Patient', id: 'p2', meta: { versionId: '3', lastUpdated: '2024-02-01T00:00:00Z' } },
    ]);
    await withQuery(lake.dir, async (query) => {
      // p2's tombstone wins the tie with its last version.
      expect((await query.run('select id, gender from fhir_patient')).rows).toEqual([{ id: 'p1', gender: 'v10' }]);
    });
  });

  it('one truncated file is left out with a warning naming it; its view and the others still work', async () => {
    const meta = { versionId: '1', lastUpdated: '2024-02-01T00:00:00Z' };
    lake.put(`fhir/Patient/${day('01')}/good.ndjson.gz`, [{ resourceType: 'Patient', id: 'p1', meta }]);
    lake.putBytes(
      `fhir/Patient/${day('02')}/bad.ndjson.gz`,
      truncatedGzip(Array.from({ length: 50 }, (_, i) => ({ resourceType: 'Patient', id: `x${i}`, meta }))),
    );
    lake.put(`fhir/Observation/${day('01')}/o.ndjson.gz`, [{ resourceType: 'Observation', id: 'o1', meta }]);
    await withQuery(lake.dir, async (query) => {
      expect(query.warnings).toHaveLength(1);
      expect(query.warnings[0]!.subject).toBe(`fhir/Patient/${day('02')}/bad.ndjson.gz`);
      expect(query.warnings[0]!.reason).toMatch(/fhir_patient/);
      expect((await query.run('select id from fhir_patient')).rows).toEqual([{ id: 'p1' }]);
      expect((await query.run('select id from fhir_observation')).rows).toEqual([{ id: 'o1' }]);
    });
  });

  it('errors and events exist, empty, before any file is written', async () => {
    await withQuery(lake.dir, async (query) => {
      expect(query.views.map((v) => v.name)).toEqual(['events', 'errors']);
      expect((await query.run('select reason, errorType, eventId from errors')).rows).toEqual([]);
      expect((await query.run('select detail_type, count(*) as n from events group by all')).rows).toEqual([]);
    });
  });

  it('errors has its fixed columns even when no written error had an eventId', async () => {
    lake.put(`_errors/fhir-export/${day('01')}/e.ndjson.gz`, [
      { reason: 'not JSON', errorType: 'InvalidJson', source: { file: 'f', line: 3 }, record: 'x' },
    ]);
    await withQuery(lake.dir, async (query) => {
      expect((await query.run('select reason, eventId, source.line as line from errors')).rows).toEqual([
        { reason: 'not JSON', eventId: null, line: 3 },
      ]);
    });
  });

  it('DynamoDB numbers of 38 digits query exactly, as their text cast to DECIMAL(38,s)', async () => {
    const big = '12345678901234567890123456789012345678';
    const record = (eventId: string, amount: string, price: string) =>
      `{"op":"c","table":"visits","keys":{"id":"${eventId}"},"before":null,"after":{"id":"${eventId}","siteId":"2","amount":${amount},"price":${price},"n":7},"eventId":"${eventId}","seq":"1","ts":"2024-03-05T00:00:00.000Z"}`;
    lake.putLines('changes/visits/siteId=2/year=2024/month=03/day=05/a.ndjson.gz', [
      // Fractions are exact up to 15 significant digits: DuckDB's JSON reader parses non-integers as DOUBLE.
      record('e1', big, '123456789.012345'),
      record('e2', '5', '2.5'),
    ]);
    await withQuery(lake.dir, async (query) => {
      const { rows } = await query.run(
        `select CAST(after.amount AS DECIMAL(38,0))::VARCHAR as amount, CAST(after.price AS DECIMAL(38,10))::VARCHAR as price,
                after.amount as text, after.n + 1 as n1, after.siteId as site
           from changes_visits order by eventId`,
      );
      expect(rows).toEqual([
        { amount: big, price: '123456789.0123450000', text: big, n1: 8, site: '2' },
        { amount: '5', price: '2.5000000000', text: '5', n1: 8, site: '2' },
      ]);
    });
  });
});
