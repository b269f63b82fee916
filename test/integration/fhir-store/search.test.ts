import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patient, startHarness, type Harness, type Json } from './harness.js';

let h: Harness;
const ids: Record<string, string> = {};
let beforeSecondBatch = '';

beforeAll(async () => {
  h = await startHarness();
  const people: [string, string, string, string, string][] = [
    ['smith', 'Smith', 'John', '1980-01-15', 'mrn-1'],
    ['smithers', 'Smithers', 'Waylon', '1975-06-01', 'mrn-2'],
    ['muller', 'Müller', 'Jürgen', '1990', 'mrn-3'],
    ['jones', 'Jones', 'Anna', '2001-12-31', 'mrn-4'],
  ];
  for (const [key, family, given, birthDate, mrn] of people) {
    ids[key] = (await h.request('POST', '/Patient', patient(family, given, birthDate, mrn))).json.id;
  }
  await new Promise((resolve) => setTimeout(resolve, 5));
  beforeSecondBatch = new Date().toISOString();
  await new Promise((resolve) => setTimeout(resolve, 5));
  ids.encounter = (
    await h.request('POST', '/Encounter', {
      resourceType: 'Encounter',
      status: 'finished',
      class: { code: 'AMB' },
      subject: { reference: `Patient/${ids.smith}` },
    })
  ).json.id;
  for (let i = 0; i < 5; i += 1) {
    await h.request('POST', '/Observation', {
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'heart rate' },
      subject: { reference: `Patient/${i < 3 ? ids.smith : ids.jones}` },
      encounter: { reference: `Encounter/${ids.encounter}` },
    });
  }
});
afterAll(async () => {
  await h.close();
});

const idsOf = (bundle: Json): string[] =>
  (bundle.entry ?? [])
    .filter((e: Json) => e.search?.mode === 'match')
    .map((e: Json) => e.resource.id)
    .sort();

describe('search', () => {
  it('_id with one or several ids', async () => {
    expect(idsOf((await h.request('GET', `/Patient?_id=${ids.smith}`)).json)).toEqual([ids.smith]);
    expect(idsOf((await h.request('GET', `/Patient?_id=${ids.smith},${ids.jones}`)).json)).toEqual(
      [ids.smith, ids.jones].sort(),
    );
  });

  it('name, family and given: case- and accent-insensitive prefix; :exact', async () => {
    expect(idsOf((await h.request('GET', '/Patient?name=SMITH')).json)).toEqual([ids.smith, ids.smithers].sort());
    expect(idsOf((await h.request('GET', '/Patient?family=smithe')).json)).toEqual([ids.smithers]);
    expect(idsOf((await h.request('GET', '/Patient?name=muller')).json)).toEqual([ids.muller]);
    expect(idsOf((await h.request('GET', '/Patient?given=jurg')).json)).toEqual([ids.muller]);
    expect(idsOf((await h.request('GET', '/Patient?name:exact=Smith')).json)).toEqual([ids.smith]);
    expect(idsOf((await h.request('GET', '/Patient?name:exact=smith')).json)).toEqual([]);
    expect(idsOf((await h.request('GET', '/Patient?name=jones,waylon')).json)).toEqual(
      [ids.jones, ids.smithers].sort(),
    );
  });

  it('identifier as system|value and as value', async () => {
    expect(
      idsOf((await h.request('GET', `/Patient?identifier=${encodeURIComponent('urn:example:mrn|mrn-2')}`)).json),
    ).toEqual([ids.smithers]);
    expect(idsOf((await h.request('GET', '/Patient?identifier=mrn-3')).json)).toEqual([ids.muller]);
    expect(
      idsOf((await h.request('GET', `/Patient?identifier=${encodeURIComponent('urn:other|mrn-2')}`)).json),
    ).toEqual([]);
  });

  it('birthdate with prefixes and partial dates', async () => {
    expect(idsOf((await h.request('GET', '/Patient?birthdate=1980-01-15')).json)).toEqual([ids.smith]);
    expect(idsOf((await h.request('GET', '/Patient?birthdate=1980')).json)).toEqual([ids.smith]);
    expect(idsOf((await h.request('GET', '/Patient?birthdate=lt1980')).json)).toEqual([ids.smithers]);
    expect(idsOf((await h.request('GET', '/Patient?birthdate=ge1990-01-01')).json)).toEqual(
      [ids.muller, ids.jones].sort(),
    );
    expect(idsOf((await h.request('GET', '/Patient?birthdate=gt1990-06-01&birthdate=le2001-12-31')).json)).toEqual(
      [ids.muller, ids.jones].sort(),
    );
    expect(idsOf((await h.request('GET', '/Patient?birthdate=1990-06-01')).json)).toEqual([]);
  });

  it('_lastUpdated with prefixes', async () => {
    const after = idsOf((await h.request('GET', `/Patient?_lastUpdated=gt${beforeSecondBatch}`)).json);
    expect(after).toEqual([]);
    const encounters = idsOf((await h.request('GET', `/Encounter?_lastUpdated=ge${beforeSecondBatch}`)).json);
    expect(encounters).toEqual([ids.encounter]);
    expect(idsOf((await h.request('GET', `/Patient?_lastUpdated=lt${beforeSecondBatch}`)).json)).toHaveLength(4);
    expect((await h.request('GET', '/Patient?_lastUpdated=sa2020')).status).toBe(400);
  });

  it('reference search: patient=, subject=, Encounter?patient=, encounter=', async () => {
    expect((await h.request('GET', `/Observation?patient=Patient/${ids.smith}`)).json.total).toBe(3);
    expect((await h.request('GET', `/Observation?patient=${ids.jones}`)).json.total).toBe(2);
    expect((await h.request('GET', `/Observation?subject=Patient/${ids.jones}`)).json.total).toBe(2);
    expect((await h.request('GET', `/Observation?subject:Patient=${ids.jones}`)).json.total).toBe(2);
    expect(
      (await h.request('GET', `/Observation?subject=${encodeURIComponent(`${h.base}/Patient/${ids.jones}`)}`)).json
        .total,
    ).toBe(2);
    expect(idsOf((await h.request('GET', `/Encounter?patient=Patient/${ids.smith}`)).json)).toEqual([ids.encounter]);
    expect((await h.request('GET', `/Observation?encounter=${ids.encounter}`)).json.total).toBe(5);
  });

  it('pages with _count and next links until exhausted', async () => {
    const seen: string[] = [];
    let next: string | undefined = `${h.base}/Observation?_count=2`;
    let pages = 0;
    while (next) {
      const page = await h.request('GET', next);
      expect(page.json.type).toBe('searchset');
      expect(page.json.total).toBe(5);
      seen.push(...page.json.entry.map((e: Json) => e.resource.id));
      next = page.json.link.find((l: Json) => l.relation === 'next')?.url;
      pages += 1;
    }
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(5);
  });

  it('_count=0 gives only the total', async () => {
    const response = await h.request('GET', '/Observation?_count=0');
    expect(response.json.total).toBe(5);
    expect(response.json.entry).toEqual([]);
  });

  it('excludes deleted resources', async () => {
    const extra = (await h.request('POST', '/Patient', patient('Smithson', 'Gone', '1950'))).json.id;
    expect(idsOf((await h.request('GET', '/Patient?name=smithson')).json)).toEqual([extra]);
    await h.request('DELETE', `/Patient/${extra}`);
    expect(idsOf((await h.request('GET', '/Patient?name=smithson')).json)).toEqual([]);
  });

  it('reflects updates in the index', async () => {
    const id = (await h.request('POST', '/Patient', patient('Before', 'X', '1950'))).json.id;
    await h.request('PUT', `/Patient/${id}`, { ...patient('After', 'X', '1950'), id });
    expect(idsOf((await h.request('GET', '/Patient?family=before')).json)).toEqual([]);
    expect(idsOf((await h.request('GET', '/Patient?family=after')).json)).toEqual([id]);
  });

  it('POST _search takes form parameters', async () => {
    const response = await fetch(`${h.base}/Patient/_search`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'family=jones',
    });
    expect(idsOf(await response.json())).toEqual([ids.jones]);
  });

  it('rejects unsupported parameters with 400, or ignores them when lenient', async () => {
    const strict = await h.request('GET', '/Patient?_sort=name');
    expect(strict.status).toBe(400);
    expect(strict.json.issue[0].code).toBe('not-supported');
    expect((await h.request('GET', '/Patient?birthdate=notadate')).status).toBe(400);
    expect((await h.request('GET', '/Observation?name=x')).status).toBe(400);
    const lenient = await h.request('GET', '/Patient?family=jones&_sort=name', undefined, {
      prefer: 'handling=lenient',
    });
    expect(lenient.status).toBe(200);
    expect(idsOf(lenient.json)).toEqual([ids.jones]);
    expect(lenient.json.entry.some((e: Json) => e.search.mode === 'outcome')).toBe(true);
  });
});
