import {
  fhirPathEquals,
  getElementDefinition,
  getParsedExpressionForResourceType,
  getSearchParameters,
  toTypedValue,
  type InternalSchemaElement,
  type TypedValue,
} from '@medplum/core';
import { ensureR4Schema } from './r4-schema.js';
import type { IndexValue, SearchParamDefinition } from './search-parameters.js';
import type { FhirResource } from './types.js';

/** Parameters this store handles itself, or that are not about the resource's content. */
const HANDLED_ELSEWHERE = new Set(['_id']);

const DOCUMENTATION =
  'Token (R4 search parameter list): `code`, `system|code`, `|code` (no system) or `system|`. ' +
  'Coding and CodeableConcept match system and code, Identifier system and value, ContactPoint its value, ' +
  'code/boolean/string their value.';

function token(system: unknown, value: unknown): IndexValue[] {
  if (typeof value !== 'string' || value.length === 0) return [];
  return [{ kind: 'token', system: typeof system === 'string' && system.length > 0 ? system : null, value }];
}

/** Index rows for the values a token parameter's FHIRPath expression selects. */
function tokensOf(values: TypedValue[]): IndexValue[] {
  const rows: IndexValue[] = [];
  for (const { type, value } of values) {
    if (value === undefined || value === null) continue;
    const record = value as Record<string, unknown>;
    switch (type) {
      case 'Coding':
        rows.push(...token(record.system, record.code));
        break;
      case 'CodeableConcept':
        for (const coding of Array.isArray(record.coding) ? (record.coding as Record<string, unknown>[]) : [])
          rows.push(...token(coding?.system, coding?.code));
        break;
      case 'Identifier':
        rows.push(...token(record.system, record.value));
        break;
      case 'ContactPoint':
        rows.push(...token(undefined, record.value));
        break;
      default:
        if (typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number')
          rows.push(...token(undefined, String(value)));
    }
  }
  const seen = new Set<string>();
  return rows.filter((row) => {
    const key = row.kind === 'token' ? `${row.system ?? ''}|${row.value}` : '';
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * The top-level elements a plain path expression reads for `type` (`Observation.component.code` →
 * `component`), or undefined when the expression computes something (`exists()`, `and`, …) that
 * may be non-empty without them. Lets extraction skip FHIRPath for absent elements (ingest speed).
 */
function pathRoots(type: string, expression: string): string[] | undefined {
  if (/exists\(|empty\(|not\(|!=| and | or |%|resolve\(/.test(expression)) return undefined;
  const roots = [...expression.matchAll(new RegExp(`(?:^|[\\s(|])${type}\\.([A-Za-z]+)`, 'g'))].map((m) => m[1] ?? '');
  return roots.length > 0 ? roots : undefined;
}

/** True when `resource` has one of `roots`, choice elements included (`value` matches `valueCodeableConcept`). */
function hasAnyRoot(resource: FhirResource, roots: string[]): boolean {
  for (const key in resource) {
    if (!Object.hasOwn(resource, key)) continue;
    for (const root of roots) if (key.startsWith(root)) return true;
  }
  return false;
}

/** One term of a compiled expression: `Type.a.b` or `(Type.a.b as T)`. */
interface PathTerm {
  steps: string[];
  ofType?: string;
}

const TERM = /^\(?([A-Z][A-Za-z]*)((?:\.[a-z][A-Za-z]*)+)(?: as ([A-Z][A-Za-z]*)\))?$/;

/**
 * Compiles a search parameter expression for `type` when every term of it that names the type (the terms
 * `getParsedExpressionForResourceType` keeps) is a plain path, optionally cast with `as`: `Observation.code |
 * Observation.component.code`, `(Observation.value as CodeableConcept)`. Undefined for anything else (functions,
 * operators, other shapes), which is then evaluated with the FHIRPath engine.
 */
function compileTerms(type: string, expression: string): PathTerm[] | undefined {
  const terms: PathTerm[] = [];
  for (const raw of expression.split('|')) {
    const text = raw.trim();
    if (!text.includes(`${type}.`)) continue; // the engine drops these terms for this type too
    const match = TERM.exec(text);
    const opened = text.startsWith('(');
    if (!match || match[1] !== type || opened !== (match[3] !== undefined)) return undefined;
    terms.push({ steps: (match[2] ?? '').slice(1).split('.'), ...(match[3] ? { ofType: match[3] } : {}) });
  }
  return terms.length > 0 ? terms : undefined;
}

const elementCache = new Map<string, Map<string, InternalSchemaElement | null>>();

function elementOf(type: string, name: string): InternalSchemaElement | undefined {
  let byName = elementCache.get(type);
  if (!byName) elementCache.set(type, (byName = new Map()));
  let element = byName.get(name);
  if (element === undefined) {
    element = getElementDefinition(type, name) ?? null;
    byName.set(name, element);
  }
  return element ?? undefined;
}

/** `@medplum/core`'s `isEmpty`. */
function isEmpty(value: unknown): boolean {
  if (value === null || value === undefined) return true;
  if (typeof value === 'string') return value === '';
  if (typeof value === 'object')
    return !(('length' in value && (value as { length: number }).length > 0) || Object.keys(value).length > 0);
  return false;
}

const capitalize = (word: string): string => (word ? word.charAt(0).toUpperCase() + word.substring(1) : '');

interface Candidate {
  key: string;
  extensionKey: string;
  code: string;
}
const candidateCache = new WeakMap<InternalSchemaElement, Candidate[]>();

/** The JSON keys an element may take, in the engine's order (`value[x]` → `valueQuantity`, `valueString`, …). */
function candidatesOf(element: InternalSchemaElement): Candidate[] {
  let candidates = candidateCache.get(element);
  if (!candidates) {
    const last = element.path.substring(element.path.lastIndexOf('.') + 1);
    candidates = element.type.map(({ code }) => {
      const key = last.replace('[x]', capitalize(code));
      return { key, extensionKey: `_${key}`, code };
    });
    candidateCache.set(element, candidates);
  }
  return candidates;
}

/** Sentinel: the compiled walk met something it does not replicate; use the FHIRPath engine. */
const UNSUPPORTED = Symbol('unsupported');

/**
 * What the FHIRPath engine's property navigation (`getTypedPropertyValue`) yields for `name` on each input
 * value, for the plain cases: schema-typed elements, choice types, arrays, no primitive extensions.
 */
function navigate(input: TypedValue[], name: string): TypedValue[] | typeof UNSUPPORTED {
  const output: TypedValue[] = [];
  for (const { type, value } of input) {
    if (!value || typeof value !== 'object') continue;
    // The engine returns a resource itself for a step naming its type (never the case for lower-case steps).
    if ((value as { resourceType?: unknown }).resourceType === name) return UNSUPPORTED;
    const element = elementOf(type, name);
    if (!element || element.type.length === 0) return UNSUPPORTED;
    const record = value as Record<string, unknown>;
    let found: unknown;
    let foundType = 'undefined';
    for (const candidate of candidatesOf(element)) {
      if (record[candidate.extensionKey] !== undefined) return UNSUPPORTED; // primitive extensions merge into the value
      if (record[candidate.key] !== undefined) {
        found = record[candidate.key];
        foundType = candidate.code;
        break;
      }
    }
    if (isEmpty(found)) continue;
    if (foundType === 'Element' || foundType === 'BackboneElement') foundType = element.type[0]?.code ?? foundType;
    if (foundType === 'Resource') return UNSUPPORTED;
    if (Array.isArray(found)) {
      for (const item of found) if (item !== undefined) output.push({ type: foundType, value: item });
    } else output.push({ type: foundType, value: found });
  }
  return output;
}

/** `@medplum/core`'s union: later values equal (FHIRPath `=`) to an earlier one are dropped. */
function withoutDuplicates(values: TypedValue[]): TypedValue[] {
  const result: TypedValue[] = [];
  for (const value of values) {
    if (!result.some((kept) => fhirPathEquals(value, kept)[0]?.value === true)) result.push(value);
  }
  return result;
}

/** Evaluates compiled terms on a resource; undefined when the FHIRPath engine must do it. */
function evaluateTerms(terms: PathTerm[], type: string, resource: FhirResource): TypedValue[] | undefined {
  const root = toTypedValue(resource);
  if (root.type !== type) return undefined;
  let all: TypedValue[] = [];
  for (const term of terms) {
    let values: TypedValue[] = [root];
    for (const step of term.steps) {
      const next = navigate(values, step);
      if (next === UNSUPPORTED) return undefined;
      values = next;
      if (values.length === 0) break;
    }
    if (term.ofType !== undefined) values = values.filter((value) => value.type === term.ofType);
    all = all.length === 0 ? values : all.concat(values);
  }
  return terms.length > 1 && all.length > 1 ? withoutDuplicates(all) : all;
}

/**
 * Token index rows of one parameter evaluated with the FHIRPath engine only (no compiled paths): the
 * reference the compiled extraction is tested against.
 *
 * @example
 * tokenRowsWithFhirPath('Observation', 'code', observation) // [{ kind: 'token', system: 'http://loinc.org', … }]
 */
export function tokenRowsWithFhirPath(type: string, code: string, resource: FhirResource): IndexValue[] {
  ensureR4Schema();
  const parameter = getSearchParameters(type)?.[code];
  if (!parameter?.expression) return [];
  const atom = getParsedExpressionForResourceType(type, parameter.expression);
  return tokensOf(atom.eval({ variables: {} }, [toTypedValue(resource)]));
}

/**
 * The token search parameters of the R4 search parameter list for a resource type (e.g. `code`,
 * `category`, `identifier`, `status`, `gender`, `_tag`), each extracting index rows by evaluating
 * the parameter's FHIRPath expression with `@medplum/core` — plain path expressions through a compiled
 * walk that yields the same values (see {@link tokenRowsWithFhirPath}).
 *
 * @example
 * r4TokenParameters('Observation').map((p) => p.code) // ['_security', '_tag', 'code', 'identifier', 'category', …]
 */
export function r4TokenParameters(type: string): SearchParamDefinition[] {
  ensureR4Schema();
  const params: SearchParamDefinition[] = [];
  for (const parameter of Object.values(getSearchParameters(type) ?? {})) {
    if (parameter.type !== 'token' || !parameter.code || !parameter.expression || HANDLED_ELSEWHERE.has(parameter.code))
      continue;
    let atom: ReturnType<typeof getParsedExpressionForResourceType>;
    try {
      atom = getParsedExpressionForResourceType(type, parameter.expression);
    } catch {
      continue; // an expression the FHIRPath engine cannot parse is simply not offered
    }
    const roots = pathRoots(type, parameter.expression);
    const terms = compileTerms(type, parameter.expression);
    params.push({
      code: parameter.code,
      kind: 'token',
      documentation: DOCUMENTATION,
      extract: (resource: FhirResource) => {
        if (roots && !hasAnyRoot(resource, roots)) return [];
        const values = terms && evaluateTerms(terms, type, resource);
        return tokensOf(values ?? atom.eval({ variables: {} }, [toTypedValue(resource)]));
      },
    });
  }
  return params;
}
