/** Base class of patient-enrichment errors. Messages never carry patient values (no PHI). */
export class PatientEnrichmentError extends Error {
  public override readonly name: string = 'PatientEnrichmentError';
}

/** One invalid field of a domain patient: its path and why, never its value. */
export interface FieldProblem {
  field: string;
  problem: string;
}

/** The domain patient record failed validation. */
export class PatientValidationError extends PatientEnrichmentError {
  public override readonly name = 'PatientValidationError';
  public constructor(public readonly problems: readonly FieldProblem[]) {
    super(`invalid patient fields: ${problems.map((p) => `${p.field} (${p.problem})`).join(', ')}`);
  }
}

/** The stream record itself is unusable (no image, no key, unknown event name). */
export class InvalidStreamRecordError extends PatientEnrichmentError {
  public override readonly name = 'InvalidStreamRecordError';
}

/** A produced Patient did not validate against the FHIR R4 definitions. */
export class FhirValidationError extends PatientEnrichmentError {
  public override readonly name = 'FhirValidationError';
  public constructor(public readonly expressions: readonly string[]) {
    super(`Patient failed FHIR R4 validation at: ${expressions.join(', ') || '(unknown)'}`);
  }
}

/** A FHIR store request failed. Carries the status, never the response body (it may echo PHI). */
export class FhirWriteError extends PatientEnrichmentError {
  public override readonly name = 'FhirWriteError';
  public constructor(
    message: string,
    public readonly status?: number,
  ) {
    super(message);
  }
}
