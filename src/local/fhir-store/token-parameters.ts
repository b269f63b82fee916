import { getParsedExpressionForResourceType, getSearchParameters, toTypedValue, type TypedValue } from '@medplum/core';
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
  return Object.keys(resource).some((key) => roots.some((root) => key === root || key.startsWith(root)));
}

/**
 * The token search parameters of the R4 search parameter list for a resource type (e.g. `code`,
 * `category`, `identifier`, `status`, `gender`, `_tag`), each extracting index rows by evaluating
 * the parameter's FHIRPath expression with `@medplum/core`.
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
    params.push({
      code: parameter.code,
      kind: 'token',
      documentation: DOCUMENTATION,
      extract: (resource: FhirResource) =>
        roots && !hasAnyRoot(resource, roots) ? [] : tokensOf(atom.eval({ variables: {} }, [toTypedValue(resource)])),
    });
  }
  return params;
}
