/** An export's manifest is missing or not what DynamoDB writes; `reason` names the file and field, never data. */
export class ExportManifestError extends Error {
  public override readonly name = 'ExportManifestError';
  public constructor(public readonly reason: string) {
    super(reason);
  }
}

/** An export that will never complete (FAILED, or gone): a pending snapshot or repair on it must start over. */
export class ExportUnusableError extends Error {
  public override readonly name = 'ExportUnusableError';
  public constructor(public readonly reason: string) {
    super(reason);
  }
}
