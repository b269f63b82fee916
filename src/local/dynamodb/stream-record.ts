import { randomBytes } from 'node:crypto';
import type {
  KeySchemaElement,
  StreamEventName,
  StreamInfo,
  UnsequencedStreamRecord,
  WireAttributeValue,
  WireItem,
} from './types.js';

/** What a write did to one item, as seen by reading it before and after. */
export interface ItemChange {
  oldImage: WireItem | undefined;
  newImage: WireItem | undefined;
}

/**
 * The stream event a change produces, or `undefined` when the item did not change.
 *
 * @example
 * eventNameOf({ oldImage: undefined, newImage: { id: { S: '1' } } }) // 'INSERT'
 */
export function eventNameOf(change: ItemChange): StreamEventName | undefined {
  const { oldImage, newImage } = change;
  if (!oldImage && newImage) return 'INSERT';
  if (oldImage && !newImage) return 'REMOVE';
  if (oldImage && newImage && canonicalJson(oldImage) !== canonicalJson(newImage)) return 'MODIFY';
  return undefined;
}

/**
 * Builds the stream record of a change (without its sequence number), or `undefined` for a no-op.
 * Images are included as the stream's view type says.
 *
 * @example
 * const record = buildStreamRecord(stream, { oldImage, newImage }, 'us-east-1', new Date());
 */
export function buildStreamRecord(
  stream: StreamInfo,
  change: ItemChange,
  region: string,
  now: Date,
): UnsequencedStreamRecord | undefined {
  const eventName = eventNameOf(change);
  if (!eventName) return undefined;
  const image = (change.newImage ?? change.oldImage) as WireItem;
  const keys = keyOf(image, stream.keySchema);
  const withNew = stream.viewType === 'NEW_IMAGE' || stream.viewType === 'NEW_AND_OLD_IMAGES';
  const withOld = stream.viewType === 'OLD_IMAGE' || stream.viewType === 'NEW_AND_OLD_IMAGES';
  const newImage = withNew ? change.newImage : undefined;
  const oldImage = withOld ? change.oldImage : undefined;
  return {
    eventID: randomBytes(16).toString('hex'),
    eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: region,
    dynamodb: {
      ApproximateCreationDateTime: Math.floor(now.getTime() / 1000),
      Keys: keys,
      ...(newImage ? { NewImage: newImage } : {}),
      ...(oldImage ? { OldImage: oldImage } : {}),
      SizeBytes: itemSize(keys) + (newImage ? itemSize(newImage) : 0) + (oldImage ? itemSize(oldImage) : 0),
      StreamViewType: stream.viewType,
    },
    eventSourceARN: stream.streamArn,
  };
}

/**
 * The key attributes of an item, or `undefined` if it lacks one of them.
 *
 * @example
 * keyOf({ id: { S: '1' }, n: { N: '2' } }, [{ AttributeName: 'id', KeyType: 'HASH' }]) // { id: { S: '1' } }
 */
export function keyOf(item: WireItem, keySchema: readonly KeySchemaElement[]): WireItem;
export function keyOf(item: WireItem | undefined, keySchema: readonly KeySchemaElement[]): WireItem | undefined;
export function keyOf(item: WireItem | undefined, keySchema: readonly KeySchemaElement[]): WireItem | undefined {
  if (!item) return undefined;
  const key: WireItem = {};
  for (const { AttributeName } of keySchema) {
    const value = item[AttributeName];
    if (value === undefined) return undefined;
    key[AttributeName] = value;
  }
  return key;
}

/**
 * JSON with object keys sorted at every level, so equal items compare equal whatever their order.
 *
 * @example
 * canonicalJson({ b: { N: '1' }, a: { S: 'x' } }) === canonicalJson({ a: { S: 'x' }, b: { N: '1' } }) // true
 * canonicalJson({ s: { SS: ['b', 'a'] } }) === canonicalJson({ s: { SS: ['a', 'b'] } }) // true
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) => {
    if (inner && typeof inner === 'object' && !Array.isArray(inner)) {
      return Object.fromEntries(
        Object.entries(inner as Record<string, unknown>)
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          // A set's order is not part of its value (DynamoDB keeps none): ["b","a"] and ["a","b"] are one SS.
          .map(([name, member]) => [name, SET_TYPES.has(name) && Array.isArray(member) ? [...member].sort() : member]),
      );
    }
    return inner;
  });
}

const SET_TYPES = new Set(['SS', 'NS', 'BS']);

/** Approximate DynamoDB item size in bytes (attribute names plus values), as SizeBytes reports. */
function itemSize(item: WireItem): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) size += Buffer.byteLength(name) + valueSize(value);
  return size;
}

function valueSize(value: WireAttributeValue): number {
  const [type, inner] = Object.entries(value)[0] ?? [];
  switch (type) {
    case 'S':
      return Buffer.byteLength(String(inner));
    case 'N':
      return numberSize(String(inner));
    case 'B':
      return Buffer.from(String(inner), 'base64').length;
    case 'BOOL':
    case 'NULL':
      return 1;
    case 'SS':
      return (inner as string[]).reduce((sum, s) => sum + Buffer.byteLength(s), 0);
    case 'NS':
      return (inner as string[]).reduce((sum, n) => sum + numberSize(n), 0);
    case 'BS':
      return (inner as string[]).reduce((sum, b) => sum + Buffer.from(b, 'base64').length, 0);
    case 'L':
      return 3 + (inner as WireAttributeValue[]).reduce((sum, v) => sum + 1 + valueSize(v), 0);
    case 'M':
      return (
        3 + Object.entries(inner as WireItem).reduce((sum, [k, v]) => sum + 1 + Buffer.byteLength(k) + valueSize(v), 0)
      );
    default:
      return 0;
  }
}

function numberSize(n: string): number {
  const digits = n.replace(/^-/, '').replace(/e.*$/i, '').replace('.', '').replace(/^0+/, '');
  return Math.ceil(Math.max(digits.length, 1) / 2) + 1;
}
