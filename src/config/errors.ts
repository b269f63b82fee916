/** Raised when a config file is missing, unreadable or invalid. `field` names the bad path. */
export class ConfigError extends Error {
  public override readonly name = 'ConfigError';
  public constructor(
    message: string,
    public readonly field?: string,
  ) {
    super(message);
  }
}
