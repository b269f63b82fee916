/** Issue 10 §5: what a REST client (not the bulk-data client) needs from the embedded store. */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patient, startHarness, type Harness, type Json } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  for (let i = 0; i < 5; i += 1) await h.request('POST', '/Patient', patient('Summary', `P${i}`, '1980', `sum-${i}`));
});
afterAll(async () => {
  await h.close();
});

const linkOf = (bundle: Json, relation: string): string | undefined =>
  bundle.link?.find((l: Json) => l.relation === relation)?.url;

describe('_summary and _total', () => {
  it('_summary=count answers a searchset Bundle with the total and no entries', async () => {
    const response = await h.request('GET', '/Patient?family=summary&_summary=count');
    expect(response.status).toBe(200);
    expect(response.json.type).toBe('searchset');
    expect(response.json.total).toBe(5);
    expect(response.json.entry ?? []).toEqual([]);
    expect(linkOf(response.json, 'next')).toBeUndefined();
  });

  it('_summary=true keeps summary elements and tags SUBSETTED; _summary=data drops text', async () => {
    const id = (
      await h.request('POST', '/Patient', {
        ...patient('Subset', 'Ann', '1970'),
        text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Ann</div>' },
        maritalStatus: { text: 'married' },
      })
    ).json.id;
    const summary = (await h.request('GET', `/Patient?_id=${id}&_summary=true`)).json.entry[0].resource;
    expect(summary.name[0].family).toBe('Subset');
    expect(summary.birthDate).toBe('1970');
    expect(summary.maritalStatus).toBeUndefined();
    expect(summary.text).toBeUndefined();
    expect(summary.meta.tag).toContainEqual(expect.objectContaining({ code: 'SUBSETTED' }));
    const data = (await h.request('GET', `/Patient?_id=${id}&_summary=data`)).json.entry[0].resource;
    expect(data.text).toBeUndefined();
    expect(data.maritalStatus.text).toBe('married');
    expect((await h.request('GET', '/Patient?_summary=bogus')).status).toBe(400);
  });

  it('_total=none omits the total but still links to the next page; estimate and accurate give it', async () => {
    const none = await h.request('GET', '/Patient?family=summary&_total=none&_count=2');
    expect(none.status).toBe(200);
    expect(none.json.total).toBeUndefined();
    expect(none.json.entry).toHaveLength(2);
    const seen = none.json.entry.map((e: Json) => e.resource.id);
    let next = linkOf(none.json, 'next');
    while (next) {
      const page = (await h.request('GET', next)).json;
      expect(page.total).toBeUndefined();
      seen.push(...page.entry.map((e: Json) => e.resource.id));
      next = linkOf(page, 'next');
    }
    expect(new Set(seen).size).toBe(5);
    for (const mode of ['estimate', 'accurate'])
      expect((await h.request('GET', `/Patient?family=summary&_total=${mode}`)).json.total).toBe(5);
    expect((await h.request('GET', '/Patient?_total=maybe')).status).toBe(400);
  });
});

describe('history paging', () => {
  it('history bundles carry next links a client can follow to the end, unaffected by later writes', async () => {
    const id = (await h.request('PUT', '/Patient/hist-1', { ...patient('Hist', 'V1', '1990'), id: 'hist-1' })).json.id;
    for (let v = 2; v <= 7; v += 1)
      await h.request('PUT', `/Patient/${id}`, { ...patient('Hist', `V${v}`, '1990'), id });
    const versions: string[] = [];
    let next: string | undefined = `${h.base}/Patient/${id}/_history?_count=3`;
    let pages = 0;
    while (next) {
      const page = (await h.request('GET', next)).json;
      expect(page.type).toBe('history');
      expect(page.total).toBe(7);
      versions.push(...page.entry.map((e: Json) => e.resource.meta.versionId));
      next = linkOf(page, 'next');
      // A write while paging must not shift later pages.
      if (pages === 0) await h.request('PUT', `/Patient/${id}`, { ...patient('Hist', 'V8', '1990'), id });
      pages += 1;
    }
    expect(pages).toBe(3);
    expect(versions).toEqual(['7', '6', '5', '4', '3', '2', '1']);
    const typeHistory = (await h.request('GET', '/Patient/_history?_count=2')).json;
    expect(linkOf(typeHistory, 'next')).toContain('/Patient/_history?');
    const systemHistory = (await h.request('GET', '/_history?_count=2')).json;
    expect(linkOf(systemHistory, 'next')).toContain('/_history?');
  });
});

describe('writes', () => {
  it('a PUT with unchanged content (meta aside) creates no new version and answers 200 with the current one', async () => {
    const first = await h.request('PUT', '/Patient/same-1', { ...patient('Same', 'Body', '1990'), id: 'same-1' });
    expect(first.status).toBe(201);
    const again = await h.request('PUT', '/Patient/same-1', {
      ...first.json,
      meta: { versionId: '99', lastUpdated: '2001-01-01T00:00:00Z' },
    });
    expect(again.status).toBe(200);
    expect(again.json.meta.versionId).toBe('1');
    expect(again.json.meta.lastUpdated).toBe(first.json.meta.lastUpdated);
    expect(again.headers.get('etag')).toBe('W/"1"');
    // Key order does not count as a change.
    const { birthDate, ...rest } = first.json;
    expect((await h.request('PUT', '/Patient/same-1', { birthDate, ...rest })).json.meta.versionId).toBe('1');
    expect((await h.request('GET', '/Patient/same-1/_history')).json.total).toBe(1);
    const changed = await h.request('PUT', '/Patient/same-1', { ...first.json, gender: 'female' });
    expect(changed.json.meta.versionId).toBe('2');
  });

  it('If-None-Exist: 0 matches creates, 1 returns it (200), more than 1 is 412 naming the true count', async () => {
    const headers = { 'if-none-exist': 'family=Trio' };
    expect((await h.request('POST', '/Patient', patient('Trio', 'A', '1990'), headers)).status).toBe(201);
    const existing = await h.request('POST', '/Patient', patient('Trio', 'B', '1990'), headers);
    expect(existing.status).toBe(200);
    expect(existing.json.name[0].given).toEqual(['A']);
    await h.request('POST', '/Patient', patient('Trio', 'B', '1990'));
    await h.request('POST', '/Patient', patient('Trio', 'C', '1990'));
    const ambiguous = await h.request('POST', '/Patient', patient('Trio', 'D', '1990'), headers);
    expect(ambiguous.status).toBe(412);
    expect(ambiguous.json.issue[0].diagnostics).toContain('matched 3 resources');
  });

  it('Prefer: return=OperationOutcome answers writes with an OperationOutcome; minimal with no body', async () => {
    const prefer = { prefer: 'return=OperationOutcome' };
    const created = await h.request('POST', '/Patient', patient('Outcome', 'A', '1990'), prefer);
    expect(created.status).toBe(201);
    expect(created.json.resourceType).toBe('OperationOutcome');
    expect(created.json.issue[0].severity).toBe('information');
    const location = created.headers.get('location') ?? '';
    const id = location.split('/').at(-3);
    expect(created.json.issue[0].diagnostics).toContain(`Patient/${id}`);
    const updated = await h.request('PUT', `/Patient/${id}`, { ...patient('Outcome', 'B', '1990'), id }, prefer);
    expect(updated.status).toBe(200);
    expect(updated.json.resourceType).toBe('OperationOutcome');
    const deleted = await h.request('DELETE', `/Patient/${id}`, undefined, prefer);
    expect(deleted.status).toBe(200);
    expect(deleted.json.resourceType).toBe('OperationOutcome');
    const minimal = await h.request('POST', '/Patient', patient('Outcome', 'C', '1990'), {
      prefer: 'return=minimal',
    });
    expect(minimal.status).toBe(201);
    expect(minimal.json).toBeUndefined();
    const representation = await h.request('POST', '/Patient', patient('Outcome', 'D', '1990'), {
      prefer: 'return=representation',
    });
    expect(representation.json.resourceType).toBe('Patient');
  });

  it('Prefer: return=OperationOutcome and return=representation apply to transaction entries', async () => {
    const bundle = (given: string) => ({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ resource: patient('Outcome', given, '1990'), request: { method: 'POST', url: 'Patient' } }],
    });
    const outcome = await h.request('POST', '', bundle('E'), { prefer: 'return=OperationOutcome' });
    expect(outcome.json.entry[0].response.outcome.resourceType).toBe('OperationOutcome');
    expect(outcome.json.entry[0].resource).toBeUndefined();
    const representation = await h.request('POST', '', bundle('F'), { prefer: 'return=representation' });
    expect(representation.json.entry[0].resource.name[0].given).toEqual(['F']);
  });
});

describe('token search on the R4 token parameters', () => {
  const loinc = 'http://loinc.org';
  const category = 'http://terminology.hl7.org/CodeSystem/observation-category';
  let heartRate = '';
  let local = '';
  beforeAll(async () => {
    const observation = (code: Json, cat: string) => ({
      resourceType: 'Observation',
      status: 'final',
      category: [{ coding: [{ system: category, code: cat }] }],
      code,
    });
    heartRate = (
      await h.request(
        'POST',
        '/Observation',
        observation({ coding: [{ system: loinc, code: '8867-4' }] }, 'vital-signs'),
      )
    ).json.id;
    local = (await h.request('POST', '/Observation', observation({ coding: [{ code: '8867-4' }] }, 'laboratory'))).json
      .id;
    await h.request('POST', '/Observation', {
      ...observation({ coding: [{ system: loinc, code: '2339-0' }] }, 'laboratory'),
      status: 'amended',
    });
  });
  const ids = async (query: string): Promise<string[]> => {
    const response = await h.request('GET', `/Observation?${query}`);
    expect(response.status, query).toBe(200);
    return response.json.entry.map((e: Json) => e.resource.id).sort();
  };

  it('code: system|code, code alone, |code (no system) and system|', async () => {
    expect(await ids(`code=${loinc}|8867-4`)).toEqual([heartRate]);
    expect(await ids('code=8867-4')).toEqual([heartRate, local].sort());
    expect(await ids('code=|8867-4')).toEqual([local]);
    expect((await ids(`code=${loinc}|`)).length).toBe(2);
    expect(await ids(`code=${loinc}|8867-4,${loinc}|nope`)).toEqual([heartRate]);
  });

  it('category, status and combinations', async () => {
    expect(await ids(`category=${category}|vital-signs`)).toEqual([heartRate]);
    expect((await ids('category=laboratory')).length).toBe(2);
    expect(await ids('category=laboratory&status=final')).toEqual([local]);
    expect((await h.request('GET', '/Observation?code:text=heart')).status).toBe(400);
  });

  it('identifier and code-typed parameters of other types (Patient.gender)', async () => {
    const id = (await h.request('POST', '/Patient', { ...patient('Token', 'Tess', '1990', 'tok-1'), gender: 'female' }))
      .json.id;
    const found = await h.request('GET', '/Patient?identifier=urn:example:mrn|tok-1&gender=female');
    expect(found.json.entry.map((e: Json) => e.resource.id)).toEqual([id]);
    expect((await h.request('GET', '/Patient?identifier=tok-1&gender=male')).json.total).toBe(0);
  });
});

describe('search index upgrade', () => {
  it('reindexes a database written before the token parameters existed when it is opened', async () => {
    const own = await startHarness();
    try {
      const id = (
        await own.request('POST', '/Observation', {
          resourceType: 'Observation',
          status: 'final',
          code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
        })
      ).json.id;
      await own.server.close();
      // What an older version left behind: no token rows and no index version.
      const db = new Database(join(own.dir, 'fhir.sqlite'));
      db.exec("DELETE FROM search_token; DELETE FROM settings WHERE key = 'searchIndexVersion'");
      db.close();
      await own.restart();
      const found = await own.request('GET', '/Observation?code=http://loinc.org|8867-4');
      expect(found.json.entry.map((e: Json) => e.resource.id)).toEqual([id]);
    } finally {
      await own.close();
    }
  });
});
