/** Resources for the fast-path tests of issue 12: generated valid ones, hand-made odd ones, random mutations. */
import type { FhirResource } from '../../../src/local/fhir-store/types.js';
import { generateDirectory } from '../../../src/synthetic/directory.js';
import { generatePopulation } from '../../../src/synthetic/population.js';
import { syntheaLikeBundle } from '../../integration/fhir-store/synthea-bundle.js';

export type Json = Record<string, unknown>;
/**
 * A deep copy through JSON, as a server would see the resource.
 *
 * @example
 * const copy = clone(resource);
 */
export const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/**
 * Valid resources from the synthetic generators and a Synthea-shaped bundle.
 *
 * @example
 * for (const resource of generatedCorpus()) expect(checkResource(resource).errors).toEqual([]);
 */
export function generatedCorpus(): FhirResource[] {
  const resources: FhirResource[] = [];
  for (const bundle of [generateDirectory(), ...generatePopulation({ patients: 40, seed: 'fast-validation' })])
    for (const entry of bundle.entry) resources.push(clone(entry.resource) as unknown as FhirResource);
  for (const entry of (syntheaLikeBundle(7) as { entry: { resource: FhirResource }[] }).entry)
    resources.push(clone(entry.resource));
  return resources;
}

/** Hand-made resources of other shapes: valid, warned about, and invalid in specific ways. */
export const handMade: FhirResource[] = [
  { resourceType: 'Patient' },
  { resourceType: 'Bundle', type: 'transaction' },
  { resourceType: 'Bundle', type: 'searchset', total: 3 },
  { resourceType: 'Bundle', type: 'transaction', total: 3 }, // bdl-1
  { resourceType: 'Bundle', type: 'transactionish' },
  {
    resourceType: 'Patient',
    id: 'p1',
    meta: { profile: ['http://example.org/p'], tag: [{ system: 'urn:t', code: 'x' }], versionId: '3' },
    text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Hi</div>' },
    extension: [{ url: 'http://example.org/e', valueString: 'x' }],
    active: true,
    gender: 'female',
    birthDate: '1990-02-03',
    deceasedBoolean: false,
    multipleBirthInteger: 2,
    contact: [{ name: { family: 'C' }, relationship: [{ text: 'friend' }] }],
    communication: [{ language: { text: 'en' }, preferred: true }],
    generalPractitioner: [{ reference: 'Practitioner/1' }, { reference: 'Medication/2' }],
    managingOrganization: { reference: 'Organization/o', identifier: { assigner: { reference: 'Patient/x' } } },
  },
  { resourceType: 'Patient', contact: [{ gender: 'male' }] }, // pat-1
  { resourceType: 'Patient', extension: [{ url: 'http://example.org/e' }] }, // ext-1
  { resourceType: 'Patient', birthDate: '1990-02-03', _birthDate: { extension: [{ url: 'u', valueCode: 'x' }] } },
  { resourceType: 'Patient', _gender: { id: 'g' } },
  { resourceType: 'Patient', gender: 'xyz' },
  { resourceType: 'Patient', gender: '' },
  { resourceType: 'Patient', gender: ' ' },
  { resourceType: 'Patient', gender: null },
  { resourceType: 'Patient', name: [] },
  { resourceType: 'Patient', name: [{}] },
  { resourceType: 'Patient', name: [null] },
  { resourceType: 'Patient', name: {} },
  { resourceType: 'Patient', name: { family: 'F' } },
  { resourceType: 'Patient', name: [{ family: ['F'] }] },
  { resourceType: 'Patient', name: [{ given: 'G' }] },
  { resourceType: 'Patient', birthDate: '1990-13-45' },
  { resourceType: 'Patient', birthDate: 19900203 },
  { resourceType: 'Patient', active: 'true' },
  { resourceType: 'Patient', multipleBirthInteger: 1.5 },
  { resourceType: 'Patient', deceasedBoolean: true, deceasedDateTime: '2020' },
  { resourceType: 'Patient', foo: 'bar' },
  { resourceType: 'Patient', constructor: 'x' },
  { resourceType: 'Patient', id: 'bad id!' },
  { resourceType: 'Patient', link: [{ type: 'seealso' }] },
  { resourceType: 'Patient', contained: [{ resourceType: 'Organization', id: 'o1', name: 'O' }] },
  {
    resourceType: 'Patient',
    contained: [{ resourceType: 'Organization', id: 'o1', name: 'O' }],
    managingOrganization: { reference: '#o1' },
  },
  {
    resourceType: 'Observation',
    status: 'final',
    code: { text: 'hr' },
    valueQuantity: { value: 72, comparator: '~~' },
  },
  {
    resourceType: 'Observation',
    status: 'final',
    code: { text: 'hr' },
    valueQuantity: { value: 72 },
    dataAbsentReason: { text: 'x' },
  }, // obs-6
  {
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '1' }] },
    valueString: 'x',
    component: [{ code: { coding: [{ system: 'http://loinc.org', code: '1' }] }, valueString: 'y' }],
  }, // obs-7
  {
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '1' }] },
    component: [{ code: { coding: [{ system: 'http://loinc.org', code: '2' }] }, valueInteger: 3 }],
    referenceRange: [{ text: 'normal' }, { appliesTo: [{ text: 'x' }] }],
  },
  { resourceType: 'Observation', code: { text: 'heart rate' }, valueQuantity: { value: 'fast' } },
  { resourceType: 'Observation', status: 'final', code: { text: 'x' }, valueQuantity: {}, valueString: 's' },
  { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'urn:uuid:1234' } },
  { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient?identifier=1' } },
  { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: '' } },
  { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { display: 'no reference' } },
  { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'Medication/1' } },
  { resourceType: 'Observation', status: 'final', code: { text: 'x' }, effectivePeriod: { start: '2020-01' } },
  { resourceType: 'Observation', status: 'final', code: { text: 'x' }, effectiveInstant: '2020-01-01' },
  { resourceType: 'Observation', status: 'final', code: { text: 'x' }, valueSampledData: { period: 1 } },
  {
    resourceType: 'Condition',
    subject: { reference: 'Patient/1' },
    abatementString: 'gone',
    clinicalStatus: {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }],
    },
  }, // con-4
  {
    resourceType: 'Condition',
    subject: { reference: 'Patient/1' },
    verificationStatus: {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'entered-in-error' }],
    },
    clinicalStatus: { text: 'x' },
  }, // con-5
  { resourceType: 'Condition', subject: { reference: 'Patient/1' }, stage: [{ type: { text: 'x' } }] }, // con-1
  { resourceType: 'Organization', name: 'O', address: [{ use: 'home', city: 'X' }] }, // org-2
  { resourceType: 'Organization', name: 'O', telecom: [{ use: 'work', system: 'phone', value: '1' }] },
  { resourceType: 'Organization' },
  {
    resourceType: 'MedicationRequest',
    status: 'active',
    intent: 'order',
    medicationCodeableConcept: { text: 'x' },
    subject: { reference: 'Patient/1' },
    dosageInstruction: [{ timing: { repeat: { frequency: 0, period: 1, periodUnit: 'd' } } }],
  },
  {
    resourceType: 'MedicationRequest',
    status: 'active',
    intent: 'order',
    medicationCodeableConcept: { text: 'x' },
    subject: { reference: 'Patient/1' },
    dispenseRequest: { numberOfRepeatsAllowed: -1 },
  },
  { resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, period: { start: 'yesterday' } },
  {
    resourceType: 'Immunization',
    status: 'completed',
    vaccineCode: { text: 'v' },
    patient: { reference: 'Patient/1' },
  },
  { resourceType: 'Immunization', status: 'completed', vaccineCode: { text: 'v' } },
  { resourceType: 'Procedure', status: 'done', subject: { reference: 'Patient/1' } },
  { resourceType: 'AllergyIntolerance', patient: { reference: 'Patient/1' }, reaction: [{}] },
  {
    resourceType: 'DiagnosticReport',
    status: 'final',
    code: { text: 'x' },
    result: [{ reference: 'Observation/1' }],
    presentedForm: [{ contentType: 'text/plain', data: 'aGVsbG8=' }],
  },
  { resourceType: 'DiagnosticReport', status: 'final', code: { text: 'x' }, presentedForm: [{ data: 'not base64!' }] },
  {
    resourceType: 'Observation',
    status: 'final',
    meta: { tag: [{ system: 'urn:t', code: 'a' }], security: [{ code: 'R' }] },
    identifier: [{ system: 'urn:i', value: '1' }, { value: '2' }],
    code: { coding: [{ system: 'http://loinc.org', code: '1' }, { code: '1' }] },
    valueCodeableConcept: { coding: [{ system: 'http://snomed.info/sct', code: '373066001' }] },
    component: [
      { code: { coding: [{ system: 'http://loinc.org', code: '1' }] }, valueCodeableConcept: { text: 'x' } },
      { code: { coding: [{ system: 'http://loinc.org', code: '2' }] }, dataAbsentReason: { coding: [{ code: 'x' }] } },
    ],
  },
  {
    resourceType: 'MedicationRequest',
    status: 'active',
    intent: 'order',
    medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '1' }] },
    subject: { reference: 'Patient/1' },
  },
  {
    resourceType: 'Patient',
    telecom: [
      { system: 'email', value: 'a@example.org' },
      { system: 'phone', value: '555', use: 'home' },
    ],
    address: [{ use: 'home', city: 'X' }],
    deceasedDateTime: '2020-01-01',
  },
  { resourceType: 'Practitioner', qualification: [{ code: { text: 'MD' }, period: { end: '2020-01-01T25:00:00Z' } }] },
];

/**
 * A deterministic PRNG (mulberry32).
 *
 * @example
 * const random = prng(12); random(); // 0 <= x < 1
 */
export function prng(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const REPLACEMENTS: unknown[] = [
  null,
  '',
  ' ',
  'xyz',
  'not a date',
  '2020-01-01T10:00:00Z',
  0,
  -1,
  1.5,
  true,
  {},
  [],
  [null],
  ['xyz'],
  { text: 'x' },
  { reference: 'Medication/1' },
  { reference: 'urn:uuid:00000000-0000-0000-0000-000000000000' },
  { reference: '#missing' },
  { coding: [{ system: 'http://loinc.org', code: 'x' }] },
  { value: 1, comparator: '??' },
];

/** Every (container, key) in a JSON value, for picking a mutation point. */
function slots(
  value: unknown,
  into: [Json | unknown[], string | number][] = [],
): [Json | unknown[], string | number][] {
  if (Array.isArray(value)) {
    value.forEach((item, index) => {
      into.push([value, index]);
      slots(item, into);
    });
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, child] of Object.entries(value)) {
      if (key === 'resourceType') continue;
      into.push([value as Json, key]);
      slots(child, into);
    }
  }
  return into;
}

/**
 * One to three random edits: deletions, replacements, wrapping/unwrapping arrays, unknown or duplicate keys.
 *
 * @example
 * const broken = mutate(patient, prng(1));
 */
export function mutate(resource: FhirResource, random: () => number): FhirResource {
  const copy = clone(resource);
  const edits = 1 + Math.floor(random() * 3);
  for (let n = 0; n < edits; n++) {
    const all = slots(copy);
    const [container, key] = all[Math.floor(random() * all.length)] ?? [copy as Json, 'id'];
    const target = container as Record<string | number, unknown>;
    const pick = random();
    if (pick < 0.2) {
      if (Array.isArray(container)) container.splice(Number(key), 1);
      else delete target[key];
    } else if (pick < 0.6) {
      target[key] = clone(REPLACEMENTS[Math.floor(random() * REPLACEMENTS.length)]);
    } else if (pick < 0.7) {
      const current = target[key];
      target[key] = Array.isArray(current) ? current[0] : [current];
    } else if (pick < 0.8 && !Array.isArray(container)) {
      target[`_${String(key)}`] = { extension: [{ url: 'http://example.org/x', valueString: 'x' }] };
    } else if (pick < 0.9 && !Array.isArray(container)) {
      target[random() < 0.5 ? 'unknownElement' : 'valueString'] = 'x';
    } else if (!Array.isArray(container)) {
      target.extension = [{ url: 'http://example.org/e', ...(random() < 0.5 ? { valueCode: 'a' } : {}) }];
    }
  }
  return copy;
}
