/** Base class for errors raised by the synthetic data generator and loaders. */
export class SyntheticDataError extends Error {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SyntheticDataError';
  }
}

/** Options that cannot produce a population (negative counts, inverted years, …). */
export class InvalidSeedOptionsError extends SyntheticDataError {
  public constructor(message: string) {
    super(message);
    this.name = 'InvalidSeedOptionsError';
  }
}

/** One issue of an OperationOutcome, reduced to fields that carry no resource values. */
export interface SeedIssue {
  severity?: string;
  code?: string;
  expression?: string[];
  diagnostics?: string;
}

/**
 * The FHIR server refused a bundle (4xx, or 5xx/429 after every retry).
 * The message names the bundle by patient id and carries the server's OperationOutcome
 * diagnostics, never the bundle content.
 */
export class FhirSeedRequestError extends SyntheticDataError {
  public readonly status: number;
  public readonly bundleId: string;
  public readonly issues: SeedIssue[];

  public constructor(args: {
    status: number;
    bundleId: string;
    issues: SeedIssue[];
    attempts: number;
    cause?: unknown;
  }) {
    const detail = args.issues.length
      ? args.issues
          .map((issue) =>
            [issue.severity, issue.code, issue.expression?.join(','), issue.diagnostics].filter(Boolean).join(' | '),
          )
          .join('; ')
      : 'no OperationOutcome in response';
    const status = args.status === 0 ? 'network error' : `HTTP ${args.status}`;
    super(
      `FHIR server rejected the bundle for ${args.bundleId} (${status}, after ${args.attempts} attempt(s)): ${detail}`,
      {
        cause: args.cause,
      },
    );
    this.name = 'FhirSeedRequestError';
    this.status = args.status;
    this.bundleId = args.bundleId;
    this.issues = args.issues;
  }
}

/** DynamoDB kept returning UnprocessedItems after every retry. */
export class DynamoSeedError extends SyntheticDataError {
  public readonly unprocessed: number;

  public constructor(unprocessed: number, attempts: number) {
    super(`DynamoDB left ${unprocessed} item(s) unprocessed after ${attempts} BatchWriteItem attempt(s)`);
    this.name = 'DynamoSeedError';
    this.unprocessed = unprocessed;
  }
}
