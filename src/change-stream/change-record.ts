import { eventTimeMs } from './event-time.js';
import { InvalidStreamRecordError } from './errors.js';
import { stringifyLossless } from './lossless-json-line.js';
import type { AttributeMap, ChangeOp, ChangeRecord, ChangeRecordOptions, StreamRecord } from './types.js';
import { unmarshallItem } from './unmarshall.js';

const OPS: Readonly<Record<string, ChangeOp>> = { INSERT: 'c', MODIFY: 'u', REMOVE: 'd' };
const DYNAMODB_PRINCIPAL = 'dynamodb.amazonaws.com';

/** A change record and its event time, so callers need not re-parse `ts`. */
export interface TimedChangeRecord {
  record: ChangeRecord;
  eventTime: Date;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalImage(image: unknown, which: string): AttributeMap | undefined {
  if (image === undefined || image === null) return undefined;
  if (!isObject(image)) throw new InvalidStreamRecordError(`dynamodb.${which} must be an object`);
  return image as AttributeMap;
}

/** The stream's own time of a record whose `ts` comes from an item attribute; that time when the stream has none. */
function approximateCreationTime(streamRecord: StreamRecord, fallback: Date): Date {
  if (streamRecord.dynamodb?.ApproximateCreationDateTime === undefined) return fallback;
  return new Date(eventTimeMs(streamRecord));
}

/**
 * Like {@link toChangeRecord}, also returning the event time as a Date.
 *
 * @example
 * const { record, eventTime } = toTimedChangeRecord(streamRecord, { table: 'Visits' });
 */
export function toTimedChangeRecord(input: unknown, options: ChangeRecordOptions): TimedChangeRecord {
  if (!isObject(input)) throw new InvalidStreamRecordError('a stream record must be a JSON object');
  const streamRecord = input as StreamRecord;
  const name = streamRecord.eventName;
  // Own keys only: `constructor` or `__proto__` are not operations.
  const op = typeof name === 'string' && Object.hasOwn(OPS, name) ? OPS[name] : undefined;
  if (op === undefined) throw new InvalidStreamRecordError('eventName must be INSERT, MODIFY or REMOVE');
  if (typeof streamRecord.eventID !== 'string' || streamRecord.eventID === '') {
    throw new InvalidStreamRecordError('eventID is missing');
  }
  const dynamodb = streamRecord.dynamodb;
  if (!isObject(dynamodb)) throw new InvalidStreamRecordError('dynamodb is missing');
  if (typeof dynamodb.SequenceNumber !== 'string' || dynamodb.SequenceNumber === '') {
    throw new InvalidStreamRecordError('dynamodb.SequenceNumber is missing');
  }
  if (!isObject(dynamodb.Keys)) throw new InvalidStreamRecordError('dynamodb.Keys is missing');
  const newImage = optionalImage(dynamodb.NewImage, 'NewImage');
  const oldImage = optionalImage(dynamodb.OldImage, 'OldImage');
  const time = eventTimeMs(streamRecord, options.eventTime);
  const eventTime = new Date(time);
  const streamTime = options.eventTime === undefined ? eventTime : approximateCreationTime(streamRecord, eventTime);
  const record: ChangeRecord = {
    op,
    table: options.table,
    keys: unmarshallItem(dynamodb.Keys),
    before: oldImage === undefined ? null : unmarshallItem(oldImage),
    after: newImage === undefined || op === 'd' ? null : unmarshallItem(newImage),
    eventId: streamRecord.eventID,
    seq: dynamodb.SequenceNumber,
    ts: eventTime.toISOString(),
    source: { kind: 'stream', seq: dynamodb.SequenceNumber, time: streamTime.toISOString() },
  };
  const identity = streamRecord.userIdentity;
  if (op === 'd' && isObject(identity) && identity.type === 'Service' && identity.principalId === DYNAMODB_PRINCIPAL) {
    record.ttl = true;
  }
  return { record, eventTime };
}

/**
 * Maps a DynamoDB stream record to the lake's change envelope
 * `{op, table, keys, before, after, eventId, seq, ts, ttl?, source}`. INSERT→c, MODIFY→u, REMOVE→d;
 * `ttl: true` for deletes made by the DynamoDB service (TTL). Throws a {@link ChangeRecordError}
 * subclass with a PHI-free reason when the record is unusable.
 *
 * @example
 * toChangeRecord(streamRecord, { table: 'Visits', eventTime: { attribute: 'createdAtTime', unit: 'ms' } })
 */
export function toChangeRecord(input: unknown, options: ChangeRecordOptions): ChangeRecord {
  return toTimedChangeRecord(input, options).record;
}

/**
 * One NDJSON line (without the newline) for a change record; numbers keep every digit.
 *
 * @example
 * toNdjsonLine(record) // '{"op":"c","table":"Visits","keys":{"id":"123"},…,"after":{"big":12345678901234567890123456789012345678},…}'
 */
export function toNdjsonLine(record: ChangeRecord): string {
  return stringifyLossless(record);
}
