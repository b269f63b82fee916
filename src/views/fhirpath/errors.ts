/**
 * A FHIRPath expression that cannot be parsed or compiled (syntax, unknown function, unknown constant, wrong
 * arguments). Raised once, when a view is compiled, never per resource.
 */
export class FhirPathError extends Error {
  public override readonly name = 'FhirPathError';
}

/**
 * A FHIRPath expression that failed on one resource (e.g. `and` over several values). The view engine turns it
 * into a row-level error; the message never quotes resource values (they may be PHI).
 */
export class FhirPathEvaluationError extends Error {
  public override readonly name = 'FhirPathEvaluationError';
}
