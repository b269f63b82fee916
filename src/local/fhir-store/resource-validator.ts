import { validateResource as medplumValidate } from '@medplum/core';
import { ResourceValidationError } from './errors.js';
import type { OutcomeIssue } from './fhir-documents.js';
import { fastValidationIssues } from './fast-validation.js';
import { ensureR4Schema } from './r4-schema.js';
import { requiredBindingIssues } from './required-bindings.js';
import type { FhirResource } from './types.js';

type OperationOutcomeIssue = ReturnType<typeof medplumValidate>[number];

/** Result of {@link checkResource}: errors make the write a 400; warnings are reported, not enforced. */
export interface ValidationResult {
  errors: OutcomeIssue[];
  warnings: OutcomeIssue[];
}

/**
 * Removes quoted values from a validator message, keeping a quoted element name that the
 * path already shows: responses and any log lines must not echo resource content (PHI).
 */
function withoutValues(text: string, expression: string): string {
  const element = expression
    .split('.')
    .at(-1)
    ?.replace(/\[\d+\]$/, '');
  return text.replace(/"([^"]*)"/g, (quoted, inner: string) => (inner === element ? quoted : '<value>'));
}

function fromMedplum(issue: OperationOutcomeIssue): OutcomeIssue {
  const expression = issue.expression ?? [];
  return {
    severity: issue.severity === 'fatal' || issue.severity === 'error' ? 'error' : 'warning',
    code: issue.code ?? 'invalid',
    diagnostics: withoutValues(issue.details?.text ?? issue.diagnostics ?? 'invalid', expression[0] ?? ''),
    expression,
  };
}

/**
 * Validates a resource against the R4 StructureDefinitions with `@medplum/core` (unknown elements,
 * JSON types, cardinality, primitive formats, invariants) and checks `code` values against required
 * value sets. Issues name the element path, never its value.
 *
 * A compiled fast path ({@link fastValidationIssues}) answers for the common clean resource with the
 * same issues; anything else goes through {@link checkResourceFully}.
 *
 * @example
 * checkResource({ resourceType: 'Patient', gender: 'xyz' }).errors[0].expression // ['Patient.gender']
 */
export function checkResource(resource: FhirResource): ValidationResult {
  const fast = fastValidationIssues(resource);
  if (fast === undefined) return checkResourceFully(resource);
  const issues = fast.map(fromMedplum);
  return {
    errors: issues.filter((issue) => issue.severity === 'error'),
    warnings: issues.filter((issue) => issue.severity === 'warning'),
  };
}

/**
 * {@link checkResource} without the fast path: `@medplum/core`'s `validateResource` on the whole resource,
 * then the required bindings. The reference the fast path is tested against.
 *
 * @example
 * checkResourceFully({ resourceType: 'Patient', gender: 'xyz' }).errors.length // 1
 */
export function checkResourceFully(resource: FhirResource): ValidationResult {
  ensureR4Schema();
  // The validator looks names up in plain objects: such keys would find Object.prototype's members there.
  const inherited = inheritedNameIssues(resource);
  if (inherited.length > 0) return { errors: inherited, warnings: [] };
  let raw: OperationOutcomeIssue[];
  try {
    raw = medplumValidate(resource as unknown as Parameters<typeof medplumValidate>[0]);
  } catch (error) {
    const outcome = (error as { outcome?: { issue?: OperationOutcomeIssue[] } }).outcome;
    if (!outcome) throw error;
    raw = outcome.issue ?? [];
  }
  const issues = raw.map(fromMedplum);
  for (const binding of requiredBindingIssues(resource)) {
    issues.push({
      severity: 'error',
      code: 'code-invalid',
      diagnostics: `value is not in the required value set ${binding.valueSet}`,
      expression: [binding.expression],
    });
  }
  return {
    errors: issues.filter((issue) => issue.severity === 'error'),
    warnings: issues.filter((issue) => issue.severity === 'warning'),
  };
}

/** Names every object has through Object.prototype (`constructor`, `toString`, `__proto__`, …): no FHIR element has one. */
const INHERITED_NAMES: ReadonlySet<string> = new Set(Object.getOwnPropertyNames(Object.prototype));

/**
 * Structural errors for JSON keys (and `resourceType` values) that are names of Object.prototype members, e.g. a
 * `"constructor"` key or a contained resource of type `"toString"`. No FHIR element or type has such a name; looked up
 * in the definitions they would find inherited functions, so they are reported here, before the definitions are
 * consulted. Paths and names only, never values.
 *
 * @example
 * inheritedNameIssues({ resourceType: 'Patient', constructor: 'x' })[0].expression // ['Patient.constructor']
 */
export function inheritedNameIssues(resource: FhirResource): OutcomeIssue[] {
  const issues: OutcomeIssue[] = [];
  const visit = (value: unknown, path: string): void => {
    if (Array.isArray(value)) {
      value.forEach((item, index) => visit(item, `${path}[${index}]`));
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    for (const key of Object.keys(value)) {
      const child = (value as Record<string, unknown>)[key];
      if (INHERITED_NAMES.has(key))
        issues.push({
          severity: 'error',
          code: 'structure',
          diagnostics: `Invalid additional property "${key}"`,
          expression: [`${path}.${key}`],
        });
      else if (key === 'resourceType' && typeof child === 'string' && INHERITED_NAMES.has(child))
        issues.push({
          severity: 'error',
          code: 'invalid',
          diagnostics: `Unknown data type: ${child}`,
          expression: [path],
        });
      else visit(child, `${path}.${key}`);
    }
  };
  const type = typeof resource.resourceType === 'string' ? resource.resourceType : 'Resource';
  visit(resource, INHERITED_NAMES.has(type) ? 'Resource' : type);
  return issues;
}

/**
 * Throws {@link ResourceValidationError} (400, one issue per problem) when `resource` is not valid R4.
 *
 * @example
 * assertValidR4(JSON.parse(body));
 */
export function assertValidR4(resource: FhirResource): void {
  const { errors } = checkResource(resource);
  if (errors.length > 0) throw new ResourceValidationError(resource.resourceType, errors);
}
