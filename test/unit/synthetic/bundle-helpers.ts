import type { FhirResource, TransactionBundle } from '../../../src/synthetic/index.js';

/** Every `reference` string anywhere inside a resource. */
export function collectReferences(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) {
    for (const item of value) collectReferences(item, found);
  } else if (value && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      if (key === 'reference' && typeof child === 'string') found.push(child);
      else collectReferences(child, found);
    }
  }
  return found;
}

/** Every `system` string anywhere inside a resource. */
export function collectSystems(value: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) collectSystems(item, found);
  } else if (value && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      if (key === 'system' && typeof child === 'string') found.add(child);
      else collectSystems(child, found);
    }
  }
  return found;
}

export const resourcesOf = (bundle: TransactionBundle, type: string): FhirResource[] =>
  bundle.entry.map((entry) => entry.resource).filter((resource) => resource.resourceType === type);

export const take = <T>(iterable: Iterable<T>, n: number): T[] => {
  const out: T[] = [];
  for (const item of iterable) {
    if (out.length >= n) break;
    out.push(item);
  }
  return out;
};

/** Generated FHIR JSON probed field by field in assertions; typing every shape would add nothing. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Loose = any;
