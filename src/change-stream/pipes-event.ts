import type { AttributeMap, AttributeValue, StreamRecord } from './types.js';

const toBase64 = (bytes: Uint8Array) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');

/** Returns the same value when it holds no bytes (no allocation), else a copy with base64 text. */
function jsonValue(value: AttributeValue): AttributeValue {
  if (value.B instanceof Uint8Array) return { B: toBase64(value.B) };
  if (Array.isArray(value.BS) && value.BS.some((item) => item instanceof Uint8Array)) {
    return { BS: value.BS.map((item) => (item instanceof Uint8Array ? toBase64(item) : item)) };
  }
  if (value.M !== undefined) {
    const map = jsonImage(value.M);
    return map === value.M ? value : { M: map };
  }
  if (Array.isArray(value.L)) {
    let copy: AttributeValue[] | undefined;
    value.L.forEach((item, index) => {
      const converted = jsonValue(item);
      if (converted !== item) (copy ??= [...(value.L as AttributeValue[])])[index] = converted;
    });
    return copy === undefined ? value : { L: copy };
  }
  return value;
}

function jsonImage(image: AttributeMap): AttributeMap;
function jsonImage(image: AttributeMap | undefined): AttributeMap | undefined;
function jsonImage(image: AttributeMap | undefined): AttributeMap | undefined {
  if (image === undefined || image === null) return image;
  let copy: AttributeMap | undefined;
  for (const name in image) {
    const value = image[name] as AttributeValue;
    const converted = jsonValue(value);
    if (converted !== value) (copy ??= { ...image })[name] = converted;
  }
  return copy ?? image;
}

/**
 * Puts a stream record read with the AWS SDK (DynamoDB Streams `GetRecords`) into the JSON shape
 * EventBridge Pipes delivers: `ApproximateCreationDateTime` as epoch seconds, binary as base64.
 * Filter patterns then see exactly what they would see in AWS. Records already in that shape are
 * returned as they are.
 *
 * @example
 * const pipeEvents = sdkRecords.map(toPipesEvent);
 * const passed = pipeEvents.filter((event) => filters.test(event));
 */
export function toPipesEvent(record: StreamRecord): StreamRecord {
  const dynamodb = record.dynamodb;
  if (dynamodb === undefined || dynamodb === null) return record;
  const time = dynamodb.ApproximateCreationDateTime;
  const keys = jsonImage(dynamodb.Keys);
  const newImage = jsonImage(dynamodb.NewImage);
  const oldImage = jsonImage(dynamodb.OldImage);
  if (
    !(time instanceof Date) &&
    keys === dynamodb.Keys &&
    newImage === dynamodb.NewImage &&
    oldImage === dynamodb.OldImage
  ) {
    return record;
  }
  const converted: NonNullable<StreamRecord['dynamodb']> = { ...dynamodb };
  if (time instanceof Date) converted.ApproximateCreationDateTime = Math.floor(time.getTime() / 1000);
  if (keys !== undefined) converted.Keys = keys;
  if (newImage !== undefined) converted.NewImage = newImage;
  if (oldImage !== undefined) converted.OldImage = oldImage;
  return { ...record, dynamodb: converted };
}
