import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patient, startHarness, type Harness, type Json } from './harness.js';
import { syntheaLikeBundle, syntheaOrganization } from './synthea-bundle.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  await h.request('POST', '/Organization', syntheaOrganization);
});
afterAll(async () => {
  await h.close();
});

const idFromLocation = (location: string): string => location.split('/')[1] as string;

describe('transaction bundles', () => {
  it('loads a Synthea-shaped bundle in one POST and resolves urn:uuid and conditional references', async () => {
    const bundle = syntheaLikeBundle(1);
    const response = await h.request('POST', '', bundle);
    expect(response.status).toBe(200);
    expect(response.json.type).toBe('transaction-response');
    expect(response.json.entry).toHaveLength(bundle.entry.length);
    for (const entry of response.json.entry) {
      expect(entry.response.status).toBe('201 Created');
      expect(entry.response.etag).toBe('W/"1"');
      expect(entry.response.location).toMatch(/^[A-Za-z]+\/[^/]+\/_history\/1$/);
    }
    const patientId = idFromLocation(response.json.entry[1].response.location);
    const practitionerId = idFromLocation(response.json.entry[0].response.location);
    const storedPatient = (await h.request('GET', `/Patient/${patientId}`)).json;
    expect(storedPatient.generalPractitioner[0].reference).toBe(`Practitioner/${practitionerId}`);
    const observations = (await h.request('GET', `/Observation?patient=Patient/${patientId}&_count=100`)).json;
    expect(observations.total).toBe(12);
    const encounterRef = observations.entry[0].resource.encounter.reference;
    expect(encounterRef).toMatch(/^Encounter\//);
    expect((await h.request('GET', `/${encounterRef}`)).json.subject.reference).toBe(`Patient/${patientId}`);
    const organization = (await h.request('GET', '/Organization?identifier=org-1')).json.entry[0].resource;
    expect((await h.request('GET', `/${encounterRef}`)).json.serviceProvider.reference).toBe(
      `Organization/${organization.id}`,
    );
    expect((await h.request('GET', `/Encounter?patient=${patientId}`)).json.total).toBe(3);
    expect((await h.request('GET', `/Condition?patient=${patientId}`)).json.total).toBe(3);
    expect((await h.request('GET', `/MedicationRequest?subject=Patient/${patientId}`)).json.total).toBe(3);
  });

  it('conditional create inside a transaction reuses the existing resource', async () => {
    const second = await h.request('POST', '', syntheaLikeBundle(2));
    expect(second.json.entry[0].response.status).toBe('200 OK');
    expect((await h.request('GET', '/Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|9999')).json.total).toBe(1);
  });

  it('is atomic: one failing entry writes nothing', async () => {
    const before = (await h.request('GET', '/Patient?_count=0')).json.total;
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          fullUrl: 'urn:uuid:1',
          resource: patient('Atomic', 'One', '1990'),
          request: { method: 'POST', url: 'Patient' },
        },
        {
          resource: { resourceType: 'Patient', id: 'atomic-2' },
          request: { method: 'PUT', url: 'Patient/atomic-2', ifMatch: 'W/"5"' },
        },
      ],
    };
    const response = await h.request('POST', '', bundle);
    expect(response.status).toBe(412);
    expect(response.json.resourceType).toBe('OperationOutcome');
    expect(response.json.issue[0].diagnostics).toContain('entry 1');
    expect((await h.request('GET', '/Patient?_count=0')).json.total).toBe(before);
    expect((await h.request('GET', '/Patient?family=atomic')).json.total).toBe(0);
  });

  it('supports PUT, DELETE, GET and conditional PUT entries', async () => {
    await h.request('PUT', '/Patient/tx-del', { ...patient('Tx', 'Del', '1990'), id: 'tx-del' });
    await h.request('PUT', '/Patient/tx-get', { ...patient('Tx', 'Get', '1990'), id: 'tx-get' });
    const response = await h.request('POST', '', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { request: { method: 'GET', url: 'Patient/tx-get' } },
        {
          fullUrl: 'urn:uuid:put',
          resource: { ...patient('Tx', 'Put', '1990'), id: 'tx-put' },
          request: { method: 'PUT', url: 'Patient/tx-put' },
        },
        {
          resource: patient('Tx', 'Cond', '1990', 'tx-cond'),
          request: { method: 'PUT', url: 'Patient?identifier=tx-cond' },
        },
        { request: { method: 'DELETE', url: 'Patient/tx-del' } },
        {
          resource: {
            resourceType: 'Observation',
            status: 'final',
            code: { text: 'x' },
            subject: { reference: 'urn:uuid:put' },
          },
          request: { method: 'POST', url: 'Observation' },
        },
      ],
    });
    expect(response.status).toBe(200);
    const statuses = response.json.entry.map((e: Json) => e.response.status);
    expect(statuses).toEqual(['200 OK', '201 Created', '201 Created', '204 No Content', '201 Created']);
    expect(response.json.entry[0].resource.id).toBe('tx-get');
    expect((await h.request('GET', '/Patient/tx-del')).status).toBe(410);
    expect((await h.request('GET', '/Observation?subject=Patient/tx-put')).json.total).toBe(1);
  });

  it('rejects a transaction that touches one resource twice, and non-Bundles', async () => {
    const twice = await h.request('POST', '', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { resource: { resourceType: 'Patient', id: 'twice' }, request: { method: 'PUT', url: 'Patient/twice' } },
        { request: { method: 'DELETE', url: 'Patient/twice' } },
      ],
    });
    expect(twice.status).toBe(400);
    expect((await h.request('GET', '/Patient/twice')).status).toBe(404);
    expect((await h.request('POST', '', { resourceType: 'Patient' })).status).toBe(400);
    expect((await h.request('POST', '', { resourceType: 'Bundle', type: 'collection' })).status).toBe(400);
    expect(
      (
        await h.request('POST', '', {
          resourceType: 'Bundle',
          type: 'transaction',
          entry: [{ request: { method: 'PATCH', url: 'Patient/1' } }],
        })
      ).status,
    ).toBe(400);
  });
});

describe('batch bundles', () => {
  it('processes entries independently and reports each outcome', async () => {
    const response = await h.request('POST', '', {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [
        { resource: patient('Batch', 'Ok', '1990'), request: { method: 'POST', url: 'Patient' } },
        { request: { method: 'GET', url: 'Patient/does-not-exist' } },
        { resource: { resourceType: 'Unicorn' }, request: { method: 'POST', url: 'Unicorn' } },
        { request: { method: 'GET', url: 'Patient?family=batch' } },
      ],
    });
    expect(response.status).toBe(200);
    expect(response.json.type).toBe('batch-response');
    const [created, missing, invalid, search] = response.json.entry;
    expect(created.response.status).toBe('201 Created');
    expect(missing.response.status).toBe('404');
    expect(missing.response.outcome.resourceType).toBe('OperationOutcome');
    expect(invalid.response.status).toBe('400');
    expect(search.resource.type).toBe('searchset');
    expect(search.resource.total).toBe(1);
  });
});
