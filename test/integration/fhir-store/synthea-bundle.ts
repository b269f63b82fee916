import type { Json } from './harness.js';
import { randomUUID } from 'node:crypto';

/**
 * A transaction Bundle shaped like Synthea's output for one synthetic patient:
 * everything POSTed with `urn:uuid:` fullUrls, references between entries, a conditional
 * reference to an Organization and a Practitioner created with ifNoneExist.
 */
export function syntheaLikeBundle(index: number, encounters = 3, observationsPerEncounter = 4): Json {
  const patientUrl = `urn:uuid:${randomUUID()}`;
  const practitionerUrl = `urn:uuid:${randomUUID()}`;
  const entry: Json[] = [
    {
      fullUrl: practitionerUrl,
      resource: {
        resourceType: 'Practitioner',
        id: practitionerUrl.slice(9),
        identifier: [{ system: 'http://hl7.org/fhir/sid/us-npi', value: '9999' }],
        name: [{ family: 'Careful', given: ['Dr'] }],
      },
      request: { method: 'POST', url: 'Practitioner', ifNoneExist: 'identifier=http://hl7.org/fhir/sid/us-npi|9999' },
    },
    {
      fullUrl: patientUrl,
      resource: {
        resourceType: 'Patient',
        id: patientUrl.slice(9),
        identifier: [{ system: 'https://github.com/synthetichealth/synthea', value: `synthetic-${index}` }],
        name: [{ use: 'official', family: `Family${index}`, given: [`Given${index}`] }],
        birthDate: `19${String(50 + (index % 50)).padStart(2, '0')}-0${1 + (index % 9)}-1${index % 10}`,
        generalPractitioner: [{ reference: practitionerUrl }],
      },
      request: { method: 'POST', url: 'Patient' },
    },
  ];
  for (let e = 0; e < encounters; e += 1) {
    const encounterUrl = `urn:uuid:${randomUUID()}`;
    entry.push({
      fullUrl: encounterUrl,
      resource: {
        resourceType: 'Encounter',
        status: 'finished',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
        subject: { reference: patientUrl },
        participant: [{ individual: { reference: practitionerUrl } }],
        serviceProvider: { reference: 'Organization?identifier=https://github.com/synthetichealth/synthea|org-1' },
        period: {
          start: `2020-01-${String(1 + e).padStart(2, '0')}T10:00:00Z`,
          end: `2020-01-${String(1 + e).padStart(2, '0')}T11:00:00Z`,
        },
      },
      request: { method: 'POST', url: 'Encounter' },
    });
    for (let o = 0; o < observationsPerEncounter; o += 1) {
      entry.push({
        fullUrl: `urn:uuid:${randomUUID()}`,
        resource: {
          resourceType: 'Observation',
          status: 'final',
          code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] },
          subject: { reference: patientUrl },
          encounter: { reference: encounterUrl },
          effectiveDateTime: `2020-01-${String(1 + e).padStart(2, '0')}T10:30:00Z`,
          valueQuantity: { value: 60 + o, unit: '/min' },
        },
        request: { method: 'POST', url: 'Observation' },
      });
    }
    entry.push({
      fullUrl: `urn:uuid:${randomUUID()}`,
      resource: {
        resourceType: 'Condition',
        subject: { reference: patientUrl },
        encounter: { reference: encounterUrl },
        code: { text: 'synthetic finding' },
      },
      request: { method: 'POST', url: 'Condition' },
    });
    entry.push({
      fullUrl: `urn:uuid:${randomUUID()}`,
      resource: {
        resourceType: 'MedicationRequest',
        status: 'active',
        intent: 'order',
        subject: { reference: patientUrl },
        encounter: { reference: encounterUrl },
        requester: { reference: practitionerUrl },
        medicationCodeableConcept: { text: 'synthetic medication' },
      },
      request: { method: 'POST', url: 'MedicationRequest' },
    });
  }
  return { resourceType: 'Bundle', type: 'transaction', entry };
}

/** The Organization Synthea's bundles reference conditionally (loaded first, as Synthea's hospital bundle is). */
export const syntheaOrganization = {
  resourceType: 'Organization',
  identifier: [{ system: 'https://github.com/synthetichealth/synthea', value: 'org-1' }],
  name: 'Synthetic General Hospital',
};
