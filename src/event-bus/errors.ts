/** Raised when an event bus cannot be configured as asked. */
export class EventBusConfigError extends Error {
  public override readonly name = 'EventBusConfigError';
}
