/**
 * Errors raised by the FHIR store. Each carries the HTTP status and the
 * OperationOutcome issue code it maps to, so HTTP routing stays a thin adapter.
 * Messages name types, ids and parameters only, never resource content (no PHI).
 */
export class FhirError extends Error {
  public override readonly name: string = 'FhirError';
  public constructor(
    public readonly status: number,
    public readonly issueCode: string,
    message: string,
  ) {
    super(message);
  }
}

/** 400: malformed input (invalid JSON, bad resourceType or id, unsupported parameter). */
export class InvalidRequestError extends FhirError {
  public override readonly name = 'InvalidRequestError';
  public constructor(message: string, issueCode = 'invalid') {
    super(400, issueCode, message);
  }
}

/** 400 with issue code `not-supported`: a valid FHIR feature this store does not implement. */
export class NotSupportedError extends FhirError {
  public override readonly name = 'NotSupportedError';
  public constructor(message: string) {
    super(400, 'not-supported', message);
  }
}

/** 404: the resource, version or job does not exist. */
export class NotFoundError extends FhirError {
  public override readonly name = 'NotFoundError';
  public constructor(message: string) {
    super(404, 'not-found', message);
  }
}

/** 410: the resource exists only as a deleted version. */
export class GoneError extends FhirError {
  public override readonly name = 'GoneError';
  public constructor(message: string) {
    super(410, 'deleted', message);
  }
}

/** 409: the write conflicts with the current state (e.g. If-Match on a deleted resource). */
export class ConflictError extends FhirError {
  public override readonly name = 'ConflictError';
  public constructor(message: string) {
    super(409, 'conflict', message);
  }
}

/** 412: a precondition failed (If-Match version mismatch, ambiguous conditional match). */
export class PreconditionFailedError extends FhirError {
  public override readonly name = 'PreconditionFailedError';
  public constructor(message: string) {
    super(412, 'conflict', message);
  }
}

/** 413: the request body is larger than the configured limit. */
export class PayloadTooLargeError extends FhirError {
  public override readonly name = 'PayloadTooLargeError';
  public constructor(limitBytes: number) {
    super(413, 'too-costly', `request body exceeds the limit of ${limitBytes} bytes`);
  }
}

/** 405: the path exists but not with this method. */
export class MethodNotAllowedError extends FhirError {
  public override readonly name = 'MethodNotAllowedError';
  public constructor(method: string, path: string) {
    super(405, 'not-supported', `method ${method} is not allowed on ${path}`);
  }
}

/** Raised by an export fault hook or a failed export; the job ends FAILED with this message. */
export class ExportFailedError extends Error {
  public override readonly name = 'ExportFailedError';
}
