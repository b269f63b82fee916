import { renderPatientResources } from './fhir-resources.js';
import { resolvePopulationOptions, type ResolvedPopulationOptions } from './options.js';
import { planPatient, type PatientPlan } from './patient-plan.js';
import type { BundleEntry, PopulationOptions, TransactionBundle } from './types.js';
import { deterministicUuid } from './uuid.js';

/**
 * Lazily plans each patient of a population, one at a time (memory does not grow with N).
 *
 * @example
 * for (const plan of generatePatientPlans({ patients: 3, seed: 1 })) console.log(plan.id);
 */
export function* generatePatientPlans(options: PopulationOptions | ResolvedPopulationOptions): Generator<PatientPlan> {
  const resolved = 'windowStart' in options ? options : resolvePopulationOptions(options);
  const end = resolved.firstPatient + resolved.patients;
  for (let index = resolved.firstPatient; index < end; index++) yield planPatient(resolved, index);
}

/**
 * One patient's transaction Bundle. Clinical entries carry deterministic `urn:uuid:` fullUrls
 * and reference each other by them; directory resources are referenced as `Practitioner/pr-001`.
 * With `PUT` (default) every entry has a deterministic id (`obs-p-000123-4`), so loading the
 * same seed twice leaves the server unchanged; with `POST` the server assigns ids.
 *
 * @example
 * const bundle = buildPatientBundle(plan, resolvePopulationOptions({ patients: 1, seed: 1 }));
 */
export function buildPatientBundle(plan: PatientPlan, options: ResolvedPopulationOptions): TransactionBundle {
  const known = new Map<string, string>();
  const uuid = (resourceType: string, id: string): string => {
    const key = `${resourceType}/${id}`;
    let fullUrl = known.get(key);
    if (fullUrl === undefined) {
      fullUrl = `urn:uuid:${deterministicUuid(options.seed, key)}`;
      known.set(key, fullUrl);
    }
    return fullUrl;
  };
  const entry: BundleEntry[] = renderPatientResources(plan, uuid).map((resource) => {
    const { resourceType, id = '' } = resource;
    if (options.method === 'PUT') {
      return { fullUrl: uuid(resourceType, id), resource, request: { method: 'PUT', url: `${resourceType}/${id}` } };
    }
    const { id: _serverAssigned, ...withoutId } = resource;
    return {
      fullUrl: uuid(resourceType, id),
      resource: { ...withoutId, resourceType },
      request: { method: 'POST', url: resourceType },
    };
  });
  return { resourceType: 'Bundle', type: 'transaction', entry };
}

/**
 * Streams a deterministic synthetic population: one FHIR R4 transaction Bundle per patient.
 * Load `generateDirectory()` first; patient bundles reference its Practitioners and Organizations.
 *
 * @example
 * for (const bundle of generatePopulation({ patients: 100, seed: 42 })) await post(bundle);
 */
export function* generatePopulation(options: PopulationOptions): Generator<TransactionBundle> {
  const resolved = resolvePopulationOptions(options);
  for (const plan of generatePatientPlans(resolved)) yield buildPatientBundle(plan, resolved);
}

/**
 * Rough number of resources a population will hold, for progress bars and sizing benchmarks
 * (≈ 1 Patient + 7.9 per encounter + 1.2 conditions/medications; within a few percent).
 *
 * @example
 * estimateResources({ patients: 25_000, seed: 1 }); // ≈ 1M
 */
export function estimateResources(options: PopulationOptions): number {
  const resolved = resolvePopulationOptions(options);
  const encounters = (resolved.encounters.min + resolved.encounters.max) / 2;
  return Math.round(resolved.patients * (1 + encounters * 7.9 + 1.2));
}
