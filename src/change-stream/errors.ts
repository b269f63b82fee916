/**
 * Base of every reason a stream record cannot become a change record. Messages carry attribute
 * names, ids and reasons only, never attribute values (they may be PHI).
 */
export abstract class ChangeRecordError extends Error {
  /** Stable machine-readable type, written to the error location as `errorType`. */
  public abstract readonly errorType: string;
  protected constructor(
    /** Why, in words; safe to log. */
    public readonly reason: string,
  ) {
    super(reason);
  }
}

/** The stream record itself is malformed (not an object, unknown eventName, no Keys, …). */
export class InvalidStreamRecordError extends ChangeRecordError {
  public override readonly name = 'InvalidStreamRecordError';
  public readonly errorType = 'InvalidStreamRecord';
  public constructor(reason: string) {
    super(reason);
  }
}

/** An AttributeValue could not be unmarshalled; `path` names the attribute, never the value. */
export class InvalidAttributeValueError extends ChangeRecordError {
  public override readonly name = 'InvalidAttributeValueError';
  public readonly errorType = 'InvalidAttributeValue';
  public constructor(
    public readonly path: string[],
    public readonly problem: string,
  ) {
    super(`attribute ${path.join('.') || '(root)'}: ${problem}`);
  }

  /** The same error one level further out, so the path reads from the item root. */
  public within(name: string): InvalidAttributeValueError {
    return new InvalidAttributeValueError([name, ...this.path], this.problem);
  }
}

/** The configured event-time attribute is missing or unreadable, or the stream gave no time. */
export class InvalidEventTimeError extends ChangeRecordError {
  public override readonly name = 'InvalidEventTimeError';
  public readonly errorType = 'InvalidEventTime';
  public constructor(
    public readonly attribute: string | undefined,
    problem: string,
  ) {
    super(attribute === undefined ? `event time: ${problem}` : `event time attribute ${attribute}: ${problem}`);
  }
}

/** A partition column names an item attribute the record does not have. */
export class MissingPartitionAttributeError extends ChangeRecordError {
  public override readonly name = 'MissingPartitionAttributeError';
  public readonly errorType = 'MissingPartitionAttribute';
  public constructor(public readonly attribute: string) {
    super(`partition attribute ${attribute} is missing`);
  }
}

/** A partition attribute exists but is not a string, number or boolean. */
export class InvalidPartitionAttributeError extends ChangeRecordError {
  public override readonly name = 'InvalidPartitionAttributeError';
  public readonly errorType = 'InvalidPartitionAttribute';
  public constructor(
    public readonly attribute: string,
    problem: string,
  ) {
    super(`partition attribute ${attribute}: ${problem}`);
  }
}
