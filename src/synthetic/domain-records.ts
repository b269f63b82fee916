import { ORGANIZATION_COUNT } from './directory.js';
import { resolvePopulationOptions } from './options.js';
import type { PatientPlan } from './patient-plan.js';
import { generatePatientPlans } from './population.js';
import type { DomainPatient, DomainRecords, DomainVisit, PopulationOptions } from './types.js';

const mmddyyyy = (ms: number): string => {
  const date = new Date(ms);
  const mm = String(date.getUTCMonth() + 1).padStart(2, '0');
  const dd = String(date.getUTCDate()).padStart(2, '0');
  return `${mm}-${dd}-${date.getUTCFullYear()}`;
};

/**
 * The `patients` table item for a plan; `id` equals the FHIR Patient identifier value.
 *
 * @example
 * const item = toDomainPatient(plan); // { id: 'p-000001', birthDate: '07-13-1991', … }
 */
export function toDomainPatient(plan: PatientPlan): DomainPatient {
  return {
    id: plan.id,
    firstName: plan.given,
    lastName: plan.family,
    ...(plan.middle ? { middleName: plan.middle } : {}),
    birthDate: mmddyyyy(plan.birth),
    address: {
      address1: plan.address.line1,
      ...(plan.address.line2 ? { address2: plan.address.line2 } : {}),
      city: plan.address.city,
      state: plan.address.state,
      postalCode: plan.address.postalCode,
    },
    gender: plan.sex,
    phone: plan.phone,
    email: plan.email,
  };
}

/**
 * The `visits` table items for a plan: one per encounter, `siteId` is the organization number.
 *
 * @example
 * toDomainVisits(plan).map((v) => v.id); // ['v-p-000001-1', …]
 */
export function toDomainVisits(plan: PatientPlan): DomainVisit[] {
  return plan.encounters.map((encounter) => ({
    id: `v-${plan.id}-${encounter.n}`,
    siteId: String(((encounter.organization - 1) % ORGANIZATION_COUNT) + 1),
    patientId: plan.id,
    name: encounter.reason,
    valueOne: encounter.vitals.systolic,
    valueTwo: encounter.vitals.heartRate,
    createdAtTime: encounter.start,
  }));
}

/**
 * Streams the DynamoDB domain records of the same population `generatePopulation` yields
 * (same options → same patients, same ids).
 *
 * @example
 * for (const { patient, visits } of generateDomainRecords({ patients: 10, seed: 42 })) { … }
 */
export function* generateDomainRecords(options: PopulationOptions): Generator<DomainRecords> {
  for (const plan of generatePatientPlans(resolvePopulationOptions(options))) {
    yield { patient: toDomainPatient(plan), visits: toDomainVisits(plan) };
  }
}
