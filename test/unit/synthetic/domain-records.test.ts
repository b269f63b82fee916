import { describe, expect, it } from 'vitest';
import {
  CODE_SYSTEMS,
  ORGANIZATION_COUNT,
  generateDomainRecords,
  generatePopulation,
} from '../../../src/synthetic/index.js';
import { resourcesOf, type Loose } from './bundle-helpers.js';

const options = { patients: 40, seed: 'domain' };

describe('generateDomainRecords', () => {
  it('matches the FHIR population patient by patient, joining on the patient identifier', () => {
    const bundles = [...generatePopulation(options)];
    const records = [...generateDomainRecords(options)];
    expect(records).toHaveLength(bundles.length);
    records.forEach(({ patient, visits }, i) => {
      const bundle = bundles[i]!;
      const fhirPatient = resourcesOf(bundle, 'Patient')[0] as Record<string, Loose>;
      const identifier = fhirPatient.identifier.find((id: Loose) => id.system === CODE_SYSTEMS.patientId);
      expect(patient.id).toBe(identifier.value);
      expect(patient.id).toMatch(/^p-\d{6}$/);
      expect(patient.firstName).toBe(fhirPatient.name[0].given[0]);
      expect(patient.middleName).toBe(fhirPatient.name[0].given[1]);
      expect(patient.lastName).toBe(fhirPatient.name[0].family);
      expect(patient.gender).toBe(fhirPatient.gender);
      // Domain dates are MM-DD-YYYY; FHIR wants YYYY-MM-DD.
      expect(patient.birthDate).toMatch(/^\d{2}-\d{2}-\d{4}$/);
      const [mm, dd, yyyy] = patient.birthDate.split('-');
      expect(`${yyyy}-${mm}-${dd}`).toBe(fhirPatient.birthDate);
      expect(patient.address.address1).toBe(fhirPatient.address[0].line[0]);
      expect(patient.address.postalCode).toBe(fhirPatient.address[0].postalCode);
      expect(patient.phone).toBe(fhirPatient.telecom[0].value);
      expect(patient.email).toMatch(/^[a-z.0-9]+@example\.org$/);

      const encounters = resourcesOf(bundle, 'Encounter') as Array<Record<string, Loose>>;
      expect(visits).toHaveLength(encounters.length);
      visits.forEach((visit, n) => {
        const encounter = encounters[n]!;
        expect(visit.patientId).toBe(patient.id);
        expect(visit.id).toBe(`v-${patient.id}-${n + 1}`);
        expect(visit.createdAtTime).toBe(Date.parse(encounter.period.start));
        expect(encounter.serviceProvider.reference).toBe(`Organization/org-${visit.siteId.padStart(3, '0')}`);
        expect(Number(visit.siteId)).toBeLessThanOrEqual(ORGANIZATION_COUNT);
        expect(visit.name).toBe(encounter.reasonCode[0].text);
        expect(Number.isFinite(visit.valueOne) && Number.isFinite(visit.valueTwo)).toBe(true);
      });
    });
  });

  it('omits optional fields instead of storing undefined (DynamoDB rejects undefined)', () => {
    for (const { patient, visits } of generateDomainRecords({ patients: 100, seed: 3 })) {
      const hasUndefined = (value: object): boolean =>
        Object.values(value).some((v) => v === undefined || (v && typeof v === 'object' && hasUndefined(v)));
      expect(hasUndefined(patient)).toBe(false);
      for (const visit of visits) expect(hasUndefined(visit)).toBe(false);
    }
  });

  it('is deterministic per seed', () => {
    expect(JSON.stringify([...generateDomainRecords(options)])).toBe(
      JSON.stringify([...generateDomainRecords(options)]),
    );
    expect(JSON.stringify([...generateDomainRecords(options)])).not.toBe(
      JSON.stringify([...generateDomainRecords({ ...options, seed: 'other' })]),
    );
  });
});
