import type { Partition } from '../lake/layout.js';
import { timeParts } from '../lake/layout.js';
import { eventTimeMs } from './event-time.js';
import { keyText } from './lossless-json-line.js';
import { DEFAULT_PARTITION_BY, TIME_PARTS, type TimePart } from './partitions.js';
import { exactNumber } from './unmarshall.js';
import type { ChangeRecordOptions, StreamRecord } from './types.js';

/**
 * The direct path from a stream record to its change-record line: DynamoDB JSON is written straight to output text
 * (no unmarshalled objects, no {@link LosslessNumber}s), and the partitions are read from the raw images. It produces
 * exactly the text `stringifyLossless(toTimedChangeRecord(…).record)` would, for the records it accepts; anything
 * unusual (a malformed record, an attribute it does not expect, a partition value near the length limit) makes it
 * return `undefined`, and the caller takes the reference path, which also words the error.
 */

/** A stream record as a line, its partitions, its event time and its writer id (seq). */
export interface ChangeLine {
  line: string;
  partitions: Partition[];
  eventTime: Date;
  /** The stream sequence number (the record's id in the writer). */
  id: string;
}

const OPS: Readonly<Record<string, 'c' | 'u' | 'd'>> = { INSERT: 'c', MODIFY: 'u', REMOVE: 'd' };
const DYNAMODB_PRINCIPAL = 'dynamodb.amazonaws.com';
/** As in unmarshall.ts: numbers matching it are written verbatim; others go through `exactNumber`. */
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const TIME_PART_SET: ReadonlySet<string> = new Set(TIME_PARTS);
/** Partition values up to this length cannot exceed the encoded limit (see partitions.ts); longer ones take the reference path. */
const MAX_SAFE_RAW_LENGTH = 22;

/** Marks "not handled here": the caller falls back to the reference path. */
const BAIL = undefined;

type Raw = Record<string, unknown>;

function isPlainObject(value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function numberText(value: unknown): string | undefined {
  if (typeof value !== 'string') return BAIL;
  if (JSON_NUMBER.test(value)) return value;
  try {
    return exactNumber(value).value;
  } catch {
    return BAIL;
  }
}

function stringList(value: unknown): string | undefined {
  if (!Array.isArray(value)) return BAIL;
  let out = '[';
  for (let index = 0; index < value.length; index++) {
    const item: unknown = value[index];
    if (typeof item !== 'string') return BAIL;
    out += index === 0 ? JSON.stringify(item) : `,${JSON.stringify(item)}`;
  }
  return `${out}]`;
}

/** One AttributeValue as JSON text, checking types in the order `unmarshallValue` does. */
function valueText(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return BAIL;
  const v = value as Raw;
  if (v.S !== undefined) return typeof v.S === 'string' ? JSON.stringify(v.S) : BAIL;
  if (v.N !== undefined) return numberText(v.N);
  if (v.BOOL !== undefined) return v.BOOL === true ? 'true' : v.BOOL === false ? 'false' : BAIL;
  if (v.NULL !== undefined) return 'null';
  if (v.M !== undefined) return itemText(v.M);
  if (v.L !== undefined) {
    const list = v.L;
    if (!Array.isArray(list)) return BAIL;
    let out = '[';
    for (let index = 0; index < list.length; index++) {
      const text = valueText(list[index]);
      if (text === undefined) return BAIL;
      out += index === 0 ? text : `,${text}`;
    }
    return `${out}]`;
  }
  if (v.SS !== undefined) return stringList(v.SS);
  if (v.NS !== undefined) {
    const list = v.NS;
    if (!Array.isArray(list)) return BAIL;
    let out = '[';
    for (let index = 0; index < list.length; index++) {
      const text = numberText(list[index]);
      if (text === undefined) return BAIL;
      out += index === 0 ? text : `,${text}`;
    }
    return `${out}]`;
  }
  // Binary as base64 text (Pipes/Lambda JSON); the SDK's byte arrays take the reference path.
  if (v.B !== undefined) return typeof v.B === 'string' ? JSON.stringify(v.B) : BAIL;
  if (v.BS !== undefined) return stringList(v.BS);
  return BAIL;
}

/** An item image (or M) as JSON text, in the order `unmarshallItem` + `stringifyLossless` give. */
function itemText(image: unknown): string | undefined {
  if (!isPlainObject(image)) return BAIL;
  let out = '{';
  let first = true;
  for (const name in image) {
    if (!Object.hasOwn(image, name)) continue;
    // Assigning `__proto__` on the unmarshalled object does not make a key: leave that oddity to the reference path.
    if (name === '__proto__') return BAIL;
    const text = valueText(image[name]);
    if (text === undefined) return BAIL;
    out += first ? keyText(name) + text : `,${keyText(name)}${text}`;
    first = false;
  }
  return `${out}}`;
}

/** A partition attribute's raw value, as `partitionsFor` reads it from the unmarshalled images. */
function partitionValue(images: ReadonlyArray<Raw | undefined>, attribute: string): string | undefined {
  for (const image of images) {
    if (image === undefined || !Object.hasOwn(image, attribute)) continue;
    const v = image[attribute];
    if (typeof v !== 'object' || v === null) return BAIL;
    const value = v as Raw;
    let text: string | undefined;
    if (value.S !== undefined) text = typeof value.S === 'string' ? value.S : BAIL;
    else if (value.N !== undefined) text = numberText(value.N);
    else if (value.BOOL !== undefined) text = value.BOOL === true ? 'true' : value.BOOL === false ? 'false' : BAIL;
    else text = BAIL; // NULL, sets, maps, lists, binary: errors the reference path words
    if (text === undefined || text.length > MAX_SAFE_RAW_LENGTH) return BAIL;
    return text;
  }
  return BAIL;
}

function optionalImage(image: unknown): Raw | undefined | false {
  if (image === undefined || image === null) return undefined;
  return isPlainObject(image) ? image : false;
}

/** Options of {@link changeLineOf}, prepared once per batch. */
export interface ChangeLineOptions extends ChangeRecordOptions {
  /** `partitionBy`, default year/month/day. */
  partitionBy?: readonly string[] | undefined;
}

/**
 * The change-record line (no newline), partitions, event time and id of one stream record, written directly from
 * DynamoDB JSON; `undefined` when the record needs the reference path (`toTimedChangeRecord` + `partitionsFor` +
 * `stringifyLossless`), e.g. because it is malformed. When it returns a line, that line is byte for byte the
 * reference path's.
 *
 * @example
 * const fast = changeLineOf(streamRecord, { table: 'Visits', partitionBy: ['siteId', 'year'] });
 * if (fast) await writer.add(prefix + hivePath(fast.partitions), fast.line, fast.id);
 */
export function changeLineOf(input: unknown, options: ChangeLineOptions): ChangeLine | undefined {
  try {
    return directLine(input, options);
  } catch {
    // E.g. a getter that throws (SDK or proxy objects): the reference path words the error.
    return BAIL;
  }
}

function directLine(input: unknown, options: ChangeLineOptions): ChangeLine | undefined {
  if (!isPlainObject(input)) return BAIL;
  const record = input as StreamRecord;
  const eventName = record.eventName;
  const op = typeof eventName === 'string' && Object.hasOwn(OPS, eventName) ? OPS[eventName] : undefined;
  const eventId = record.eventID;
  const dynamodb = record.dynamodb as Raw | undefined;
  if (op === undefined || typeof eventId !== 'string' || eventId === '' || !isPlainObject(dynamodb)) return BAIL;
  const seq = dynamodb.SequenceNumber;
  if (typeof seq !== 'string' || seq === '') return BAIL;
  const keys = dynamodb.Keys;
  if (!isPlainObject(keys)) return BAIL;
  const newImage = optionalImage(dynamodb.NewImage);
  const oldImage = optionalImage(dynamodb.OldImage);
  if (newImage === false || oldImage === false) return BAIL;
  // Throws for a bad time: changeLineOf returns undefined and the reference path words the error.
  const time = eventTimeMs(record, options.eventTime);
  const streamTime =
    options.eventTime === undefined || dynamodb.ApproximateCreationDateTime === undefined ? time : eventTimeMs(record);
  const keysText = itemText(keys);
  const beforeText = oldImage === undefined ? 'null' : itemText(oldImage);
  const after = newImage === undefined || op === 'd' ? undefined : newImage;
  const afterText = after === undefined ? 'null' : itemText(after);
  if (keysText === undefined || beforeText === undefined || afterText === undefined) return BAIL;

  const eventTime = new Date(time);
  const ts = eventTime.toISOString();
  const sourceTime = streamTime === time ? ts : new Date(streamTime).toISOString();
  const spec = options.partitionBy ?? DEFAULT_PARTITION_BY;
  const images = [after ?? oldImage, keys];
  const partitions: Partition[] = new Array<Partition>(spec.length);
  let parts: ReturnType<typeof timeParts> | undefined;
  for (let index = 0; index < spec.length; index++) {
    const column = spec[index]!;
    if (TIME_PART_SET.has(column)) {
      parts ??= timeParts(eventTime);
      partitions[index] = [column, parts[column as TimePart]];
    } else {
      const value = partitionValue(images, column);
      if (value === undefined) return BAIL;
      partitions[index] = [column, value];
    }
  }
  const identity = record.userIdentity;
  const ttl =
    op === 'd' && isPlainObject(identity) && identity.type === 'Service' && identity.principalId === DYNAMODB_PRINCIPAL;
  const seqText = JSON.stringify(seq);
  const line =
    `{"op":"${op}","table":${JSON.stringify(options.table)},"keys":${keysText},"before":${beforeText},` +
    `"after":${afterText},"eventId":${JSON.stringify(eventId)},"seq":${seqText},"ts":"${ts}",` +
    `"source":{"kind":"stream","seq":${seqText},"time":"${sourceTime}"}${ttl ? ',"ttl":true}' : '}'}`;
  return { line, partitions, eventTime, id: seq };
}
