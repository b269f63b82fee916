import { InvalidEventTimeError } from './errors.js';
import type { AttributeMap, EventTimeSource, StreamRecord } from './types.js';

/** Latest instant whose year still has four digits, so `year=` partitions stay `YYYY`. */
const MAX_TIME_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

function checked(ms: number, attribute: string | undefined): number {
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_TIME_MS) {
    throw new InvalidEventTimeError(attribute, 'is not a time between 1970 and 9999');
  }
  return ms;
}

function fromAttribute(image: AttributeMap | undefined, source: EventTimeSource): number {
  const value = image?.[source.attribute];
  if (value === undefined) throw new InvalidEventTimeError(source.attribute, 'is missing from the image');
  if (source.unit === 'iso') {
    if (typeof value.S !== 'string')
      throw new InvalidEventTimeError(source.attribute, 'must be an ISO-8601 string (S)');
    return checked(Date.parse(value.S), source.attribute);
  }
  const text = value.N ?? value.S;
  const number = typeof text === 'string' && text.trim() !== '' ? Number(text) : Number.NaN;
  if (Number.isNaN(number)) {
    throw new InvalidEventTimeError(
      source.attribute,
      `must be a number of ${source.unit === 'ms' ? 'milliseconds' : 'seconds'}`,
    );
  }
  return checked(source.unit === 's' ? number * 1000 : number, source.attribute);
}

function fromStream(approximate: unknown): number {
  if (approximate instanceof Date) return checked(approximate.getTime(), undefined);
  if (typeof approximate === 'number') return checked(Math.round(approximate * 1000), undefined);
  if (typeof approximate === 'string' && approximate.trim() !== '')
    return checked(Math.round(Number(approximate) * 1000), undefined);
  throw new InvalidEventTimeError(undefined, 'the record has no ApproximateCreationDateTime');
}

/**
 * The event time of a stream record, epoch milliseconds: the configured attribute (new image, or
 * old image for deletes) or else the stream's ApproximateCreationDateTime (epoch seconds; a Date
 * from the AWS SDK).
 *
 * @example
 * eventTimeMs({ eventName: 'INSERT', dynamodb: { ApproximateCreationDateTime: 1700000000 } }) // 1700000000000
 */
export function eventTimeMs(record: StreamRecord, source?: EventTimeSource): number {
  if (source === undefined) return fromStream(record.dynamodb?.ApproximateCreationDateTime);
  const image = record.eventName === 'REMOVE' ? record.dynamodb?.OldImage : record.dynamodb?.NewImage;
  return fromAttribute(image, source);
}
