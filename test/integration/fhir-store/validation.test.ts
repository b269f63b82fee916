/** Issue 10 §5: resources are validated against the R4 structure definitions on every write path. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patient, startHarness, type Harness, type Json } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

const expressions = (outcome: Json): string[] => outcome.issue.flatMap((issue: Json) => issue.expression ?? []);

describe('validation on write', () => {
  it('rejects an unknown element with 400 and an issue at its path', async () => {
    const response = await h.request('POST', '/Patient', { resourceType: 'Patient', foo: 'bar' });
    expect(response.status).toBe(400);
    expect(response.json.resourceType).toBe('OperationOutcome');
    expect(expressions(response.json)).toEqual(['Patient.foo']);
  });

  it('rejects a code outside its required value set, listing every issue with its path', async () => {
    const response = await h.request('PUT', '/Patient/v-1', {
      resourceType: 'Patient',
      id: 'v-1',
      gender: 'xyz',
      birthDate: '1990-13-45',
      name: [{ use: 'nickname-ish', family: 7 }],
    });
    expect(response.status).toBe(400);
    expect(expressions(response.json).sort()).toEqual(
      ['Patient.birthDate', 'Patient.gender', 'Patient.name[0].family', 'Patient.name[0].use'].sort(),
    );
    // Issues name paths, not the submitted values (no PHI echoed back or logged).
    expect(JSON.stringify(response.json)).not.toContain('xyz');
    expect(JSON.stringify(response.json)).not.toContain('nickname-ish');
    expect((await h.request('GET', '/Patient/v-1')).status).toBe(404);
  });

  it('rejects keys and types named like Object.prototype members with 400, not a server error', async () => {
    const bodies: Json[] = [
      { resourceType: 'Patient', constructor: 'x' },
      { resourceType: 'Patient', name: [{ family: 'F', toString: 'y' }] },
      JSON.parse('{"resourceType":"Patient","__proto__":{"gender":"other"}}'),
      { resourceType: 'Patient', contained: [{ resourceType: 'hasOwnProperty', id: 'c' }] },
      { resourceType: 'Observation', status: 'final', code: { text: 't' }, valueQuantity: { valueOf: 1 } },
    ];
    const paths = [
      'Patient.constructor',
      'Patient.name[0].toString',
      'Patient.__proto__',
      'Patient.contained[0]',
      'Observation.valueQuantity.valueOf',
    ];
    for (const [index, body] of bodies.entries()) {
      const response = await h.request('POST', `/${body.resourceType}`, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(expressions(response.json)).toEqual([paths[index]]);
    }
    const put = await h.request('PUT', '/Patient/proto-1', { resourceType: 'Patient', id: 'proto-1', valueOf: 2 });
    expect(put.status).toBe(400);
    expect((await h.request('GET', '/Patient/proto-1')).status).toBe(404);
  });

  it('rejects a missing required element and a wrong JSON type', async () => {
    const response = await h.request('POST', '/Observation', {
      resourceType: 'Observation',
      code: { text: 'heart rate' },
      valueQuantity: { value: 'fast' },
    });
    expect(response.status).toBe(400);
    expect(response.json.issue.length).toBeGreaterThanOrEqual(2);
    expect(expressions(response.json)).toContain('Observation.status');
  });

  it('accepts valid resources, with and without meta', async () => {
    expect(
      (await h.request('POST', '/Patient', { ...patient('Valid', 'Vic', '1990-01-02'), gender: 'other' })).status,
    ).toBe(201);
    const observation = {
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
      valueQuantity: { value: 72, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
      meta: { lastUpdated: '2020-01-01T00:00:00Z' },
    };
    expect((await h.request('POST', '/Observation', observation)).status).toBe(201);
  });

  it('a transaction with invalid entries fails as a whole with 400 listing every invalid entry', async () => {
    const before = (await h.request('GET', '/Patient?_summary=count')).json.total;
    const response = await h.request('POST', '', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { resource: patient('Txn', 'Ok', '1990'), request: { method: 'POST', url: 'Patient' } },
        { resource: { resourceType: 'Patient', gender: 'xyz' }, request: { method: 'POST', url: 'Patient' } },
        { resource: { resourceType: 'Patient', foo: 1 }, request: { method: 'POST', url: 'Patient' } },
      ],
    });
    expect(response.status).toBe(400);
    expect(expressions(response.json).sort()).toEqual([
      'Bundle.entry[1].resource.gender',
      'Bundle.entry[2].resource.foo',
    ]);
    expect((await h.request('GET', '/Patient?_summary=count')).json.total).toBe(before);
  });

  it('a batch reports invalid entries one by one and processes the rest', async () => {
    const response = await h.request('POST', '', {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [
        { resource: { resourceType: 'Patient', gender: 'xyz' }, request: { method: 'POST', url: 'Patient' } },
        { resource: patient('Batch', 'Ok', '1990'), request: { method: 'POST', url: 'Patient' } },
      ],
    });
    expect(response.status).toBe(200);
    expect(response.json.entry[0].response.status).toBe('400');
    expect(expressions(response.json.entry[0].response.outcome)).toEqual(['Bundle.entry[0].resource.gender']);
    expect(response.json.entry[1].response.status).toBe('201 Created');
  });

  it('validates conditional updates and rejects unknown elements in the Bundle itself', async () => {
    const conditional = await h.request('PUT', '/Patient?identifier=urn:example:mrn|v-2', {
      ...patient('Cond', 'Val', '1990', 'v-2'),
      gender: 'xyz',
    });
    expect(conditional.status).toBe(400);
    const bundle = await h.request('POST', '', { resourceType: 'Bundle', type: 'batch', bogus: true, entry: [] });
    expect(bundle.status).toBe(400);
    expect(expressions(bundle.json)).toEqual(['Bundle.bogus']);
  });
});
