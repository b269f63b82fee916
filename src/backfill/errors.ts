/** An export's manifest is missing or not what DynamoDB writes; `reason` names the file and field, never data. */
export class ExportManifestError extends Error {
  public override readonly name = 'ExportManifestError';
  public constructor(public readonly reason: string) {
    super(reason);
  }
}
