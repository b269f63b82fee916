import { tryGetDataType } from '@medplum/core';
import { ensureR4Schema } from './r4-schema.js';
import type { SummaryMode } from './search.js';
import type { FhirResource } from './types.js';

/** The tag FHIR requires on a resource returned with elements left out (R4 §3.1.1.5.8). */
export const SUBSETTED_TAG = {
  system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue',
  code: 'SUBSETTED',
} as const;

/**
 * Applies `_summary` to one resource: `true` keeps the elements the R4 definition marks as summary,
 * `text` keeps `text`, `id`, `meta` and the mandatory top-level elements, `data` drops `text`.
 * Subsetted resources carry the `SUBSETTED` tag. `count` and `false` leave the resource alone.
 *
 * @example
 * summarise(patient, 'true'); // { resourceType, id, meta: {…, tag: [SUBSETTED]}, name, gender, birthDate, … }
 */
export function summarise(resource: FhirResource, mode: SummaryMode | undefined): FhirResource {
  if (mode === undefined || mode === 'false' || mode === 'count') return resource;
  let keep: (key: string) => boolean;
  if (mode === 'data') {
    keep = (key) => key !== 'text';
  } else {
    ensureR4Schema();
    const schema = tryGetDataType(resource.resourceType);
    const names = new Set(['id', 'meta', ...(mode === 'true' ? (schema?.summaryProperties ?? []) : ['text'])]);
    if (mode === 'text') for (const name of schema?.mandatoryProperties ?? []) names.add(name);
    const choices = [...names].filter((name) => schema?.elements[`${name}[x]`] !== undefined);
    // Choice elements are named by their base (`deceased`) but appear typed (`deceasedBoolean`).
    keep = (key) =>
      names.has(key) || choices.some((base) => key.startsWith(base) && /^[A-Z]/.test(key.slice(base.length)));
  }
  const subset: FhirResource = { resourceType: resource.resourceType };
  for (const [key, value] of Object.entries(resource)) {
    // `_birthDate` (a primitive's id/extensions) goes with `birthDate`.
    if (key !== 'resourceType' && keep(key.startsWith('_') ? key.slice(1) : key)) subset[key] = value;
  }
  const tags = Array.isArray(subset.meta?.tag) ? (subset.meta.tag as unknown[]) : [];
  subset.meta = { ...subset.meta, tag: [...tags, { ...SUBSETTED_TAG }] };
  return subset;
}
