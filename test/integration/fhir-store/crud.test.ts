import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patient, startHarness, type Harness, type Json } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ maxBodyBytes: 64 * 1024 });
});
afterAll(async () => {
  await h.close();
});

describe('FHIR REST CRUD and versioning', () => {
  it('creates with a server-assigned id, meta, ETag and Location', async () => {
    const created = await h.request('POST', '/Patient', { ...patient('Doe', 'Jane', '1980-05-01'), id: 'client-id' });
    expect(created.status).toBe(201);
    expect(created.headers.get('content-type')).toContain('application/fhir+json');
    expect(created.json.id).not.toBe('client-id');
    expect(created.json.meta.versionId).toBe('1');
    expect(Date.parse(created.json.meta.lastUpdated)).not.toBeNaN();
    expect(created.headers.get('etag')).toBe('W/"1"');
    expect(created.headers.get('location')).toBe(`${h.base}/Patient/${created.json.id}/_history/1`);
    const read = await h.request('GET', `/Patient/${created.json.id}`);
    expect(read.status).toBe(200);
    expect(read.json.name[0].family).toBe('Doe');
    expect(read.headers.get('etag')).toBe('W/"1"');
  });

  it('updates, vreads, keeps history and supports create-on-update', async () => {
    const put1 = await h.request('PUT', '/Patient/p-1', { ...patient('Roe', 'Ann', '1970'), id: 'p-1' });
    expect(put1.status).toBe(201);
    expect(put1.headers.get('location')).toBe(`${h.base}/Patient/p-1/_history/1`);
    const put2 = await h.request('PUT', '/Patient/p-1', { ...patient('Roe', 'Anne', '1970'), id: 'p-1' });
    expect(put2.status).toBe(200);
    expect(put2.json.meta.versionId).toBe('2');
    expect((await h.request('GET', '/Patient/p-1/_history/1')).json.name[0].given).toEqual(['Ann']);
    expect((await h.request('GET', '/Patient/p-1/_history/2')).json.name[0].given).toEqual(['Anne']);
    expect((await h.request('GET', '/Patient/p-1/_history/3')).status).toBe(404);
    const history = await h.request('GET', '/Patient/p-1/_history');
    expect(history.json.type).toBe('history');
    expect(history.json.total).toBe(2);
    expect(history.json.entry.map((e: Json) => e.resource.meta.versionId)).toEqual(['2', '1']);
    const typeHistory = await h.request('GET', '/Patient/_history');
    expect(typeHistory.json.total).toBeGreaterThanOrEqual(2);
  });

  it('honours If-Match: 412 on mismatch, 200 on match', async () => {
    await h.request('PUT', '/Patient/p-2', { ...patient('A', 'B', '2000'), id: 'p-2' });
    const stale = await h.request(
      'PUT',
      '/Patient/p-2',
      { ...patient('A', 'C', '2000'), id: 'p-2' },
      { 'if-match': 'W/"7"' },
    );
    expect(stale.status).toBe(412);
    expect(stale.json.resourceType).toBe('OperationOutcome');
    const fresh = await h.request(
      'PUT',
      '/Patient/p-2',
      { ...patient('A', 'C', '2000'), id: 'p-2' },
      { 'if-match': 'W/"1"' },
    );
    expect(fresh.status).toBe(200);
    expect(fresh.json.meta.versionId).toBe('2');
  });

  it('If-Match: * holds when the resource has a current version, and only then (412)', async () => {
    await h.request('PUT', '/Patient/p-star', { ...patient('Star', 'S', '2000'), id: 'p-star' });
    const body = { ...patient('Star', 'T', '2000'), id: 'p-star' };
    const updated = await h.request('PUT', '/Patient/p-star', body, { 'if-match': '*' });
    expect(updated.status).toBe(200);
    expect(updated.json.meta.versionId).toBe('2');
    const missing = { ...patient('None', 'N', '2000'), id: 'p-none' };
    expect((await h.request('PUT', '/Patient/p-none', missing, { 'if-match': '*' })).status).toBe(412);
    expect((await h.request('GET', '/Patient/p-none')).status).toBe(404);
    expect((await h.request('DELETE', '/Patient/p-star', undefined, { 'if-match': '*' })).status).toBe(204);
    expect((await h.request('PUT', '/Patient/p-star', body, { 'if-match': '*' })).status).toBe(412);
  });

  it('history _since includes versions written at exactly that instant (R4: "at or after")', async () => {
    const bundle = await h.request('POST', '', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: ['h-1', 'h-2'].map((id) => ({
        resource: { ...patient('Hist', id, '2001'), id },
        request: { method: 'PUT', url: `Patient/${id}` },
      })),
    });
    expect(bundle.status).toBe(200);
    const stamp = (await h.request('GET', '/Patient/h-1')).json.meta.lastUpdated as string;
    expect((await h.request('GET', '/Patient/h-2')).json.meta.lastUpdated).toBe(stamp);
    const since = (path: string, at: string) => h.request('GET', `${path}?_since=${encodeURIComponent(at)}`);
    const ids = (await since('/Patient/_history', stamp)).json.entry.map((entry: Json) => entry.resource.id);
    expect(ids).toEqual(expect.arrayContaining(['h-1', 'h-2']));
    expect((await since('/Patient/h-1/_history', stamp)).json.total).toBe(1);
    const later = new Date(Date.parse(stamp) + 1).toISOString();
    expect((await since('/Patient/h-1/_history', later)).json.total).toBe(0);
  });

  it('keeps deletes as history: 410 on read, 409 on If-Match, history shows DELETE', async () => {
    await h.request('PUT', '/Patient/p-3', { ...patient('Del', 'Me', '1999'), id: 'p-3' });
    const deleted = await h.request('DELETE', '/Patient/p-3');
    expect(deleted.status).toBe(204);
    const read = await h.request('GET', '/Patient/p-3');
    expect(read.status).toBe(410);
    expect(read.json.issue[0].code).toBe('deleted');
    const conflict = await h.request(
      'PUT',
      '/Patient/p-3',
      { ...patient('Del', 'Me', '1999'), id: 'p-3' },
      { 'if-match': 'W/"2"' },
    );
    expect(conflict.status).toBe(409);
    const history = await h.request('GET', '/Patient/p-3/_history');
    expect(history.json.entry[0].request.method).toBe('DELETE');
    expect(history.json.entry[0].resource).toBeUndefined();
    expect((await h.request('GET', '/Patient/p-3/_history/2')).status).toBe(410);
    const recreated = await h.request('PUT', '/Patient/p-3', { ...patient('Del', 'Me', '1999'), id: 'p-3' });
    expect(recreated.status).toBe(201);
    expect(recreated.json.meta.versionId).toBe('3');
  });

  it('conditional create returns the existing match instead of a duplicate', async () => {
    const headers = { 'if-none-exist': 'identifier=urn:example:mrn|cc-1' };
    const first = await h.request('POST', '/Patient', patient('Cond', 'Create', '1990', 'cc-1'), headers);
    expect(first.status).toBe(201);
    const second = await h.request('POST', '/Patient', patient('Cond', 'Create', '1990', 'cc-1'), headers);
    expect(second.status).toBe(200);
    expect(second.json.id).toBe(first.json.id);
    const search = await h.request('GET', '/Patient?identifier=urn:example:mrn|cc-1');
    expect(search.json.total).toBe(1);
  });

  it('conditional update creates when no match, updates the single match, 412 on several', async () => {
    const created = await h.request(
      'PUT',
      '/Patient?identifier=urn:example:mrn|cu-1',
      patient('Cond', 'Update', '1990', 'cu-1'),
    );
    expect(created.status).toBe(201);
    const updated = await h.request(
      'PUT',
      '/Patient?identifier=urn:example:mrn|cu-1',
      patient('Cond', 'Updated', '1990', 'cu-1'),
    );
    expect(updated.status).toBe(200);
    expect(updated.json.id).toBe(created.json.id);
    expect(updated.json.meta.versionId).toBe('2');
    await h.request('POST', '/Patient', patient('Dup', 'One', '1990', 'dup'));
    await h.request('POST', '/Patient', patient('Dup', 'Two', '1990', 'dup'));
    const ambiguous = await h.request('PUT', '/Patient?identifier=dup', patient('Dup', 'Three', '1990', 'dup'));
    expect(ambiguous.status).toBe(412);
  });

  it('works for Json R4 resource type', async () => {
    const created = await h.request('POST', '/ResearchStudy', { resourceType: 'ResearchStudy', status: 'active' });
    expect(created.status).toBe(201);
    expect((await h.request('GET', `/ResearchStudy/${created.json.id}`)).status).toBe(200);
  });

  it('serves a CapabilityStatement describing what is supported', async () => {
    const metadata = await h.request('GET', '/metadata');
    expect(metadata.status).toBe(200);
    expect(metadata.json.resourceType).toBe('CapabilityStatement');
    expect(metadata.json.fhirVersion).toBe('4.0.1');
    const patientEntry = metadata.json.rest[0].resource.find((r: Json) => r.type === 'Patient');
    expect(patientEntry.searchParam.map((p: Json) => p.name)).toEqual(
      expect.arrayContaining(['_id', '_lastUpdated', 'identifier', 'name', 'birthdate']),
    );
    const observation = metadata.json.rest[0].resource.find((r: Json) => r.type === 'Observation');
    expect(observation.searchParam.map((p: Json) => p.name)).toEqual(
      expect.arrayContaining(['patient', 'subject', 'encounter']),
    );
    expect(metadata.json.rest[0].interaction.map((i: Json) => i.code)).toEqual(
      expect.arrayContaining(['transaction', 'batch']),
    );
    expect(metadata.json.rest[0].resource).toHaveLength(146);
  });
});

describe('FHIR REST errors', () => {
  it('400 on invalid JSON, bad resourceType, bad id, mismatched id and type', async () => {
    const cases: [string, string, unknown][] = [
      ['POST', '/Patient', '{not json'],
      ['POST', '/Patient', { resourceType: 'Patient', id: 'bad id!' }],
      ['POST', '/Patient', { resourceType: 'Observation' }],
      ['POST', '/Unicorn', { resourceType: 'Unicorn' }],
      ['POST', '/Patient', { resourceType: 'Bot' }],
      ['PUT', '/Patient/abc', { resourceType: 'Patient', id: 'xyz' }],
      ['PUT', '/Patient/abc', { resourceType: 'Patient' }],
      ['GET', `/Patient/${'x'.repeat(65)}`, undefined],
      ['POST', '/Patient', '[1,2]'],
    ];
    for (const [method, path, body] of cases) {
      const response = await h.request(method, path, body);
      expect(response.status, `${method} ${path}`).toBe(400);
      expect(response.json.resourceType).toBe('OperationOutcome');
    }
  });

  it('404 on a missing resource, unknown datastore, unknown path', async () => {
    expect((await h.request('GET', '/Patient/nope')).status).toBe(404);
    expect((await h.request('DELETE', '/Patient/nope')).status).toBe(404);
    const otherDatastore = h.base.replace(h.server.datastoreId, 'ffffffffffffffffffffffffffffffff');
    expect((await h.request('GET', `${otherDatastore}/Patient/nope`)).status).toBe(404);
    expect((await h.request('GET', h.base.replace(/\/datastore.*/, '/nothing'))).status).toBe(404);
  });

  it('413 on a body larger than maxBodyBytes', async () => {
    const big = {
      ...patient('Big', 'Body', '1990'),
      text: { status: 'generated', div: `<div>${'x'.repeat(70 * 1024)}</div>` },
    };
    const response = await h.request('POST', '/Patient', big);
    expect(response.status).toBe(413);
    expect(response.json.resourceType).toBe('OperationOutcome');
  });

  it('405 on a method the path does not support, with the Allow header RFC 9110 requires', async () => {
    for (const [method, path, allow] of [
      ['PATCH', '/Patient/p-1', 'GET, PUT, DELETE'],
      ['DELETE', '/Patient', 'GET, POST, PUT'],
      ['POST', '/Patient/p-1/_history', 'GET'],
      ['GET', '/', 'POST'],
      ['PUT', '/metadata', 'GET'],
      ['DELETE', '/$export', 'GET, POST'],
    ] as const) {
      const response = await h.request(method, path, method === 'GET' ? undefined : {});
      expect(response.status, `${method} ${path}`).toBe(405);
      expect(response.headers.get('allow'), `${method} ${path}`).toBe(allow);
    }
  });

  it('accepts and ignores Authorization headers (SigV4)', async () => {
    const response = await h.request('GET', '/Patient/p-1', undefined, {
      authorization:
        'AWS4-HMAC-SHA256 Credential=x/20240101/us-east-1/healthlake/aws4_request, SignedHeaders=host, Signature=abc',
    });
    expect(response.status).toBe(200);
  });
});
