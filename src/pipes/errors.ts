/** Raised when another consumer (e.g. a running `tributary up`) holds a pipe for too long. */
export class PipeBusyError extends Error {
  public override readonly name = 'PipeBusyError';
  public constructor(public readonly pipe: string) {
    super(`pipe ${pipe} is being read by another consumer (is \`tributary up\` running on this state directory?)`);
  }
}
