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
  it('derives parameters from the elements of each type', () => {
    expect(searchParametersOf('Patient').map((p) => p.code)).toEqual([
      'identifier',
      'name',
      'family',
      'given',
      'birthdate',
    ]);
    expect(searchParametersOf('Observation').map((p) => p.code)).toEqual([
      'identifier',
      'subject',
      'patient',
      'encounter',
    ]);
    expect(searchParametersOf('Organization').map((p) => p.code)).toEqual(['identifier', 'name']);
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
