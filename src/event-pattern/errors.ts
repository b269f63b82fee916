/**
 * Raised when an event pattern is not valid EventBridge syntax.
 * The message names the offending path (e.g. `dynamodb.NewImage.siteId.S[0]`) and never echoes event data.
 */
export class InvalidEventPatternError extends Error {
  public override readonly name = 'InvalidEventPatternError';
  public constructor(
    /** Dotted path of the bad node inside the pattern; empty for the root. */
    public readonly path: string,
    /** What is wrong, in words. */
    public readonly reason: string,
  ) {
    super(`${path === '' ? '(pattern)' : path}: ${reason}`);
  }
}
