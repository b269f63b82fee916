const DYNAMODB_ERROR_PREFIX = 'com.amazonaws.dynamodb.v20120810#';

/**
 * An error answered to the client in DynamoDB's JSON error shape (`{__type, message}`, HTTP 400),
 * so unmodified SDK clients raise the matching typed exception.
 *
 * @example
 * throw new AwsWireError('ResourceNotFoundException', 'Requested resource not found: Stream: arn:…');
 */
export class AwsWireError extends Error {
  public override readonly name = 'AwsWireError';

  public constructor(
    /** Short error code, e.g. `ValidationException`. */
    public readonly code: string,
    message: string,
    public readonly statusCode = 400,
  ) {
    super(message);
  }

  /** The JSON body DynamoDB sends for this error. */
  public toBody(): { __type: string; message: string } {
    return { __type: `${DYNAMODB_ERROR_PREFIX}${this.code}`, message: this.message };
  }
}

/**
 * A `ValidationException`, as DynamoDB and DynamoDB Streams raise for bad input.
 *
 * @example
 * throw validationError('Invalid ShardIterator');
 */
export function validationError(message: string): AwsWireError {
  return new AwsWireError('ValidationException', message);
}

/**
 * A `ResourceNotFoundException`.
 *
 * @example
 * throw resourceNotFound('Requested resource not found: Stream: arn:aws:dynamodb:…');
 */
export function resourceNotFound(message: string): AwsWireError {
  return new AwsWireError('ResourceNotFoundException', message);
}

/**
 * A `TrimmedDataAccessException`, as DynamoDB Streams raises for a shard iterator (or a sequence
 * number) whose next record is past the stream's retention period and was trimmed.
 *
 * @example
 * throw trimmedDataAccess();
 */
export function trimmedDataAccess(): AwsWireError {
  return new AwsWireError('TrimmedDataAccessException', 'The data you are trying to access has been trimmed.');
}

/**
 * Raised by `startEmbeddedDynamoDb` when another process (another `tributary up`?) already holds
 * the LevelDB data directory.
 *
 * @example
 * try { await startEmbeddedDynamoDb(options) } catch (e) { if (e instanceof DataDirInUseError) explain(e) }
 */
export class DataDirInUseError extends Error {
  public override readonly name = 'DataDirInUseError';

  public constructor(public readonly dataDir: string) {
    super(`DynamoDB data directory is in use by another process: ${dataDir}`);
  }
}
