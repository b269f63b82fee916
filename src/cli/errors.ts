/** A wrong command line: the CLI exits 2 with this message. */
export class UsageError extends Error {
  public override readonly name = 'UsageError';
}
