import type { OutcomeIssue } from './fhir-documents.js';

/**
 * Errors raised by the FHIR store. Each carries the HTTP status and the
 * OperationOutcome issue code it maps to, so HTTP routing stays a thin adapter.
 * Messages name types, ids and parameters only, never resource content (no PHI).
 
 *
 * @example
 * throw new FhirError(422, 'processing', 'cannot process');
 */
export class FhirError extends Error {
  public override readonly name: string = 'FhirError';
  public constructor(
    public readonly status: number,
    public readonly issueCode: string,
    message: string,
    /** Several located issues (e.g. validation errors); the response lists each instead of `message`. */
    public readonly issues?: readonly OutcomeIssue[],
  ) {
    super(message);
  }
}

/**
 * Base class of the errors whose status and issue code are fixed, so each subclass only names itself.
 *
 * @example
 * class TeapotError extends fhirErrorOf(418, 'processing') {}
 */
function fhirErrorOf(status: number, issueCode: string) {
  return class extends FhirError {
    public constructor(message: string) {
      super(status, issueCode, message);
    }
  };
}

/** 400: malformed input (invalid JSON, bad resourceType or id, unsupported parameter).
 *
 * @example
 * throw new InvalidRequestError('resource id does not match the URL id');
 */
export class InvalidRequestError extends FhirError {
  public override readonly name = 'InvalidRequestError';
  public constructor(message: string, issueCode = 'invalid') {
    super(400, issueCode, message);
  }
}

/** 400: the resource is not valid R4; `issues` has one entry per problem, with its path.
 *
 * @example
 * throw new ResourceValidationError('Patient', [{ severity: 'error', code: 'structure', diagnostics: 'unknown element', expression: ['Patient.foo'] }]);
 */
export class ResourceValidationError extends FhirError {
  public override readonly name = 'ResourceValidationError';
  public constructor(resourceType: string, issues: readonly OutcomeIssue[]) {
    super(400, 'invalid', `${resourceType} is not valid R4: ${issues.length} issue(s)`, issues);
  }
}

/** 400 with issue code `not-supported`: a valid FHIR feature this store does not implement.
 *
 * @example
 * throw new NotSupportedError('_typeFilter is not supported');
 */
export class NotSupportedError extends fhirErrorOf(400, 'not-supported') {
  public override readonly name = 'NotSupportedError';
}

/** 404: the resource, version or job does not exist.
 *
 * @example
 * throw new NotFoundError('Patient/1 does not exist');
 */
export class NotFoundError extends fhirErrorOf(404, 'not-found') {
  public override readonly name = 'NotFoundError';
}

/** 410: the resource exists only as a deleted version.
 *
 * @example
 * throw new GoneError('Patient/1 was deleted');
 */
export class GoneError extends fhirErrorOf(410, 'deleted') {
  public override readonly name = 'GoneError';
}

/** 409: the write conflicts with the current state (e.g. If-Match on a deleted resource).
 *
 * @example
 * throw new ConflictError('Patient/1 is deleted; If-Match cannot apply');
 */
export class ConflictError extends fhirErrorOf(409, 'conflict') {
  public override readonly name = 'ConflictError';
}

/** 412: a precondition failed (If-Match version mismatch, ambiguous conditional match).
 *
 * @example
 * throw new PreconditionFailedError('If-Match version 2 does not match 3');
 */
export class PreconditionFailedError extends fhirErrorOf(412, 'conflict') {
  public override readonly name = 'PreconditionFailedError';
}

/** 413: the request body is larger than the configured limit.
 *
 * @example
 * throw new PayloadTooLargeError(16 * 1024 * 1024);
 */
export class PayloadTooLargeError extends FhirError {
  public override readonly name = 'PayloadTooLargeError';
  public constructor(limitBytes: number) {
    super(413, 'too-costly', `request body exceeds the limit of ${limitBytes} bytes`);
  }
}

/** 405: the path exists but not with this method.
 *
 * @example
 * throw new MethodNotAllowedError('PATCH', '/Patient/1', ['GET', 'PUT', 'DELETE']);
 */
export class MethodNotAllowedError extends FhirError {
  public override readonly name = 'MethodNotAllowedError';
  /**
   * @param allowed the methods the path supports, sent as the `Allow` header (RFC 9110 §15.5.6: a 405 must have one).
   */
  public constructor(
    method: string,
    path: string,
    public readonly allowed: readonly string[],
  ) {
    super(405, 'not-supported', `method ${method} is not allowed on ${path}`);
  }
}
