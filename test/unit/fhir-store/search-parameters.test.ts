import { describe, expect, it } from 'vitest';
import {
  isR4ResourceType,
  patientCompartmentTypes,
  r4ResourceTypes,
} from '../../../src/local/fhir-store/r4-definitions.js';
import {
  normaliseReference,
  normaliseSearchString,
  searchParametersOf,
} from '../../../src/local/fhir-store/search-parameters.js';

describe('R4 definitions', () => {
  it('lists the R4 resource types without Medplum-specific ones', () => {
    expect(r4ResourceTypes().size).toBe(146);
    expect(isR4ResourceType('Patient')).toBe(true);
    expect(isR4ResourceType('Bot')).toBe(false);
    expect(isR4ResourceType('ProjectMembership')).toBe(false);
    expect(patientCompartmentTypes().has('Observation')).toBe(true);
    expect(patientCompartmentTypes().has('Organization')).toBe(false);
  });
});

describe('search parameters', () => {
  it('offers every R4 token parameter plus string, date and reference parameters from the elements', () => {
    const codes = (type: string): string[] => searchParametersOf(type).map((p) => p.code);
    expect(codes('Patient')).toEqual(
      expect.arrayContaining(['identifier', 'gender', 'active', 'language', 'name', 'family', 'given', 'birthdate']),
    );
    expect(codes('Observation')).toEqual(
      expect.arrayContaining(['identifier', 'code', 'category', 'status', 'value-concept', 'subject', 'patient']),
    );
    expect(codes('Organization')).toEqual(expect.arrayContaining(['identifier', 'name', 'type', 'active']));
    expect(codes('Observation')).not.toContain('_id');
    for (const type of ['Patient', 'Observation', 'Organization'])
      expect(new Set(codes(type)).size).toBe(codes(type).length);
  });

  it('extracts tokens from CodeableConcept, Identifier, code and boolean values', () => {
    const param = (type: string, code: string) => searchParametersOf(type).find((p) => p.code === code);
    const observation = {
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }, { code: 'hr' }], text: 'heart rate' },
    };
    expect(param('Observation', 'code')?.extract(observation)).toEqual([
      { kind: 'token', system: 'http://loinc.org', value: '8867-4' },
      { kind: 'token', system: null, value: 'hr' },
    ]);
    expect(param('Observation', 'status')?.extract(observation)).toEqual([
      { kind: 'token', system: null, value: 'final' },
    ]);
    expect(param('Patient', 'active')?.extract({ resourceType: 'Patient', active: false })).toEqual([
      { kind: 'token', system: null, value: 'false' },
    ]);
  });

  it('extracts patient from subject only when it references a Patient', () => {
    const patientParam = searchParametersOf('Observation').find((p) => p.code === 'patient');
    expect(patientParam?.extract({ resourceType: 'Observation', subject: { reference: 'Patient/1' } })).toEqual([
      { kind: 'reference', target: 'Patient/1' },
    ]);
    expect(patientParam?.extract({ resourceType: 'Observation', subject: { reference: 'Group/1' } })).toEqual([]);
  });

  it('normalises references and strings', () => {
    expect(normaliseReference('http://x/fhir/Patient/1/_history/2')).toBe('Patient/1');
    expect(normaliseReference('urn:uuid:abc')).toBe('urn:uuid:abc');
    expect(normaliseSearchString('Müller')).toBe('muller');
  });
});
