import { resourceNotFound, trimmedDataAccess, validationError } from './errors.js';
import { formatSequenceNumber, parseSequenceNumber, type StreamStore } from './stream-store.js';
import type { StreamInfo } from './types.js';

const MAX_RECORDS_PER_CALL = 1000;

/** What a shard iterator points at: read records of a stream after `after`. */
interface IteratorPosition {
  streamArn: string;
  shardId: string;
  after: bigint;
}

type Input = Record<string, unknown>;

/** Retention of {@link StreamsApi}: records appended more than `retentionMs` before `now()` are trimmed. */
export interface StreamsRetention {
  retentionMs: number;
  /** The clock, epoch milliseconds (`Date.now` by default). */
  now?: () => number;
}

/**
 * The DynamoDB Streams API (`DynamoDBStreams_20120810.*`) over a {@link StreamStore}:
 * ListStreams, DescribeStream, GetShardIterator and GetRecords. One shard per stream.
 *
 * Retention, as in AWS: records older than `retentionMs` are trimmed. A position (what an iterator
 * reads after) is trimmed when a record of the stream after it was: `TRIM_HORIZON` starts after the
 * newest trimmed record, and `AT_SEQUENCE_NUMBER`/`AFTER_SEQUENCE_NUMBER` at a trimmed position, or
 * `GetRecords` with an iterator whose position has been trimmed since, fail with
 * `TrimmedDataAccessException`, never skipping a record silently. `AFTER_SEQUENCE_NUMBER` of the
 * newest trimmed record still works (nothing after it is lost).
 *
 * @example
 * const api = new StreamsApi(store, { retentionMs: 86_400_000 });
 * const output = api.handle('ListStreams', { TableName: 'Visits' });
 */
export class StreamsApi {
  private readonly retentionMs: number;
  private readonly now: () => number;

  public constructor(
    private readonly store: StreamStore,
    retention: StreamsRetention = { retentionMs: 86_400_000 },
  ) {
    this.retentionMs = retention.retentionMs;
    this.now = retention.now ?? Date.now;
  }

  /** Runs one operation; throws {@link AwsWireError} for errors the client should see. */
  public handle(operation: string, input: Input): unknown {
    switch (operation) {
      case 'ListStreams':
        return this.listStreams(input);
      case 'DescribeStream':
        return this.describeStream(input);
      case 'GetShardIterator':
        return this.getShardIterator(input);
      case 'GetRecords':
        return this.getRecords(input);
      default:
        throw validationError(`Unsupported DynamoDB Streams operation: ${operation}`);
    }
  }

  private listStreams(input: Input): unknown {
    const tableName = optionalString(input, 'TableName');
    const limit = optionalLimit(input, 'Limit', 100);
    const exclusiveStart = optionalString(input, 'ExclusiveStartStreamArn');
    let streams = this.store.listStreams(tableName);
    if (exclusiveStart !== undefined) {
      const index = streams.findIndex((s) => s.streamArn === exclusiveStart);
      if (index < 0) throw validationError('ExclusiveStartStreamArn does not name a stream');
      streams = streams.slice(index + 1);
    }
    const page = streams.slice(0, limit);
    const last = page.at(-1);
    return {
      Streams: page.map((s) => ({ StreamArn: s.streamArn, TableName: s.tableName, StreamLabel: s.label })),
      ...(streams.length > page.length && last ? { LastEvaluatedStreamArn: last.streamArn } : {}),
    };
  }

  private describeStream(input: Input): unknown {
    const stream = this.requireStream(requiredString(input, 'StreamArn'));
    const exclusiveStartShardId = optionalString(input, 'ExclusiveStartShardId');
    optionalLimit(input, 'Limit', 100);
    const shards = exclusiveStartShardId === stream.shardId ? [] : [this.shardOf(stream)];
    return {
      StreamDescription: {
        StreamArn: stream.streamArn,
        StreamLabel: stream.label,
        StreamStatus: stream.enabled ? 'ENABLED' : 'DISABLED',
        StreamViewType: stream.viewType,
        CreationRequestDateTime: stream.createdMs / 1000,
        TableName: stream.tableName,
        KeySchema: stream.keySchema,
        Shards: shards,
      },
    };
  }

  private getShardIterator(input: Input): unknown {
    const stream = this.requireStream(requiredString(input, 'StreamArn'));
    const shardId = requiredString(input, 'ShardId');
    if (shardId !== stream.shardId) throw resourceNotFound(`Requested resource not found: Shard does not exist`);
    const type = requiredString(input, 'ShardIteratorType');
    const horizon = this.trimHorizon(stream);
    let after: bigint;
    switch (type) {
      case 'TRIM_HORIZON':
        after = horizon;
        break;
      case 'LATEST':
        after = stream.endSeq ?? this.store.lastPosition();
        break;
      case 'AT_SEQUENCE_NUMBER':
      case 'AFTER_SEQUENCE_NUMBER': {
        const position = this.requireSequenceNumber(stream, input);
        after = type === 'AT_SEQUENCE_NUMBER' ? position - 1n : position;
        if (after < horizon) throw trimmedDataAccess();
        break;
      }
      default:
        throw validationError(
          `1 validation error detected: Value '${type}' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set: [AFTER_SEQUENCE_NUMBER, LATEST, AT_SEQUENCE_NUMBER, TRIM_HORIZON]`,
        );
    }
    return { ShardIterator: encodeIterator({ streamArn: stream.streamArn, shardId, after }) };
  }

  private getRecords(input: Input): unknown {
    const position = decodeIterator(requiredString(input, 'ShardIterator'));
    const limit = optionalLimit(input, 'Limit', MAX_RECORDS_PER_CALL);
    const stream = this.requireStream(position.streamArn);
    // Records after the iterator's position were trimmed since it was taken: the reader lost them.
    if (position.after < this.trimHorizon(stream)) throw trimmedDataAccess();
    const read = this.store.readAfter(stream.streamArn, position.after, limit);
    const after = read.at(-1)?.position ?? position.after;
    // A closed shard that has been read to its end has no next iterator; an open one always has.
    const exhausted = !stream.enabled && !this.store.hasRecordsAfter(stream.streamArn, after);
    return {
      Records: read.map((r) => r.record),
      ...(exhausted ? {} : { NextShardIterator: encodeIterator({ ...position, after }) }),
    };
  }

  /** The stream's trim horizon now: the newest trimmed position (`startSeq - 1` when none is). */
  private trimHorizon(stream: StreamInfo): bigint {
    const horizon = this.store.advanceTrimHorizon(stream.streamArn, this.now() - this.retentionMs);
    return horizon > stream.startSeq - 1n ? horizon : stream.startSeq - 1n;
  }

  /** The shard, its range starting at the first record not trimmed (or just after the horizon). */
  private shardOf(stream: StreamInfo): unknown {
    const horizon = this.trimHorizon(stream);
    const starting =
      horizon < stream.startSeq
        ? stream.startSeq
        : (this.store.firstPositionAfter(stream.streamArn, horizon) ?? horizon + 1n);
    return {
      ShardId: stream.shardId,
      SequenceNumberRange: {
        StartingSequenceNumber: formatSequenceNumber(starting),
        ...(stream.endSeq !== undefined ? { EndingSequenceNumber: formatSequenceNumber(stream.endSeq) } : {}),
      },
    };
  }

  private requireStream(streamArn: string): StreamInfo {
    const stream = this.store.stream(streamArn);
    if (!stream) throw resourceNotFound(`Requested resource not found: Stream: ${streamArn} not found`);
    return stream;
  }

  private requireSequenceNumber(stream: StreamInfo, input: Input): bigint {
    const raw = optionalString(input, 'SequenceNumber');
    if (raw === undefined)
      throw validationError('SequenceNumber is required for AT_SEQUENCE_NUMBER and AFTER_SEQUENCE_NUMBER');
    const position = parseSequenceNumber(raw);
    const beyondEnd = stream.endSeq !== undefined && position !== undefined && position > stream.endSeq;
    if (position === undefined || position < stream.startSeq || beyondEnd) {
      throw validationError(`Invalid SequenceNumber ${raw} for shard ${stream.shardId}`);
    }
    return position;
  }
}

function encodeIterator(position: IteratorPosition): string {
  return Buffer.from(JSON.stringify([position.streamArn, position.shardId, position.after.toString()])).toString(
    'base64url',
  );
}

function decodeIterator(token: string): IteratorPosition {
  try {
    const [streamArn, shardId, after] = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown[];
    if (
      typeof streamArn === 'string' &&
      typeof shardId === 'string' &&
      typeof after === 'string' &&
      /^-?\d+$/.test(after)
    ) {
      return { streamArn, shardId, after: BigInt(after) };
    }
  } catch {
    // Falls through to the validation error below.
  }
  throw validationError('Invalid ShardIterator');
}

function requiredString(input: Input, name: string): string {
  const value = input[name];
  if (typeof value !== 'string' || value === '') {
    throw validationError(
      `1 validation error detected: Value null at '${lowerFirst(name)}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
}

function optionalString(input: Input, name: string): string | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw validationError(`${name} must be a string`);
  return value;
}

function optionalLimit(input: Input, name: string, max: number): number {
  const value = input[name];
  if (value === undefined || value === null) return max;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw validationError(
      `1 validation error detected: Value '${String(value)}' at '${lowerFirst(name)}' failed to satisfy constraint: Member must have value between 1 and ${max}`,
    );
  }
  return value;
}

function lowerFirst(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}
