import {
  CITIES,
  CODE_SYSTEMS,
  FAMILY_NAMES,
  FEMALE_GIVEN_NAMES,
  MALE_GIVEN_NAMES,
  ORGANIZATION_NAMES,
  STREET_NAMES,
} from './catalog.js';
import { createRandom, mixSeed } from './prng.js';
import { deterministicUuid } from './uuid.js';
import type { FhirResource, TransactionBundle } from './types.js';

/** Size of the fixed practitioner pool (`pr-001` … `pr-020`). */
export const PRACTITIONER_COUNT = 20;
/** Size of the fixed organization pool (`org-001` … `org-006`); the number is also the visit `siteId`. */
export const ORGANIZATION_COUNT = 6;

/**
 * Directory resource id from its 1-based number.
 *
 * @example
 * practitionerId(3); // 'pr-003'
 */
export function practitionerId(n: number): string {
  return `pr-${String(n).padStart(3, '0')}`;
}

/**
 * @example
 * organizationId(2); // 'org-002'
 */
export function organizationId(n: number): string {
  return `org-${String(n).padStart(3, '0')}`;
}

/** Literal reference to a directory resource, valid inside and outside any bundle. */
export const practitionerReference = (n: number): string => `Practitioner/${practitionerId(n)}`;
export const organizationReference = (n: number): string => `Organization/${organizationId(n)}`;

/** Independent of the population seed: the directory is shared by every seeded population. */
const DIRECTORY_SEED = mixSeed('tributary-directory-v1');

/**
 * The fixed pool of Organizations and Practitioners, as plain resources with stable ids.
 *
 * @example
 * for (const resource of directoryResources()) console.log(resource.resourceType, resource.id);
 */
export function directoryResources(): FhirResource[] {
  const random = createRandom(DIRECTORY_SEED);
  const resources: FhirResource[] = [];
  for (let n = 1; n <= ORGANIZATION_COUNT; n++) {
    const place = random.pick(CITIES);
    resources.push({
      resourceType: 'Organization',
      id: organizationId(n),
      identifier: [{ system: CODE_SYSTEMS.organizationId, value: organizationId(n) }],
      active: true,
      type: [{ coding: [{ system: CODE_SYSTEMS.organizationType, code: 'prov', display: 'Healthcare Provider' }] }],
      name: ORGANIZATION_NAMES[(n - 1) % ORGANIZATION_NAMES.length],
      telecom: [
        {
          system: 'phone',
          value: `${random.int(201, 989)}-555-${String(random.int(0, 9999)).padStart(4, '0')}`,
          use: 'work',
        },
      ],
      address: [
        {
          use: 'work',
          type: 'physical',
          line: [`${random.int(1, 999)} ${random.pick(STREET_NAMES)}`],
          city: place.city,
          state: place.state,
          postalCode: `${place.zip}${String(random.int(0, 99)).padStart(2, '0')}`,
          country: 'US',
        },
      ],
    });
  }
  for (let n = 1; n <= PRACTITIONER_COUNT; n++) {
    const female = random.chance(0.5);
    resources.push({
      resourceType: 'Practitioner',
      id: practitionerId(n),
      identifier: [
        { system: CODE_SYSTEMS.practitionerId, value: practitionerId(n) },
        { system: CODE_SYSTEMS.npi, value: String(9_990_000_000 + n * 7919) },
      ],
      active: true,
      name: [
        {
          use: 'official',
          family: random.pick(FAMILY_NAMES),
          given: [random.pick(female ? FEMALE_GIVEN_NAMES : MALE_GIVEN_NAMES)],
          prefix: ['Dr.'],
        },
      ],
      gender: female ? 'female' : 'male',
      telecom: [{ system: 'email', value: `${practitionerId(n)}@clinic.example.org`, use: 'work' }],
    });
  }
  return resources;
}

/**
 * The directory as a transaction Bundle of PUTs, to load before any patient bundle.
 * Loading it twice is harmless.
 *
 * @example
 * await fetch(fhirBaseUrl, { method: 'POST', body: JSON.stringify(generateDirectory()) });
 */
export function generateDirectory(): TransactionBundle {
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: directoryResources().map((resource) => ({
      fullUrl: `urn:uuid:${directoryUuid(resource)}`,
      resource,
      request: { method: 'PUT' as const, url: `${resource.resourceType}/${resource.id}` },
    })),
  };
}

const directoryUuid = (resource: FhirResource): string =>
  deterministicUuid('tributary-directory', `${resource.resourceType}/${resource.id ?? ''}`);
