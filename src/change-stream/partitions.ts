import { isLosslessNumber } from 'lossless-json';
import type { Partition } from '../lake/layout.js';
import { sanitiseSegment, timeParts } from '../lake/layout.js';
import { InvalidPartitionAttributeError, MissingPartitionAttributeError } from './errors.js';
import type { ChangeRecord, PlainItem } from './types.js';

/** Partition columns that come from the event time rather than the item. */
export const TIME_PARTS = ['year', 'month', 'day', 'hour', 'minute'] as const;
export type TimePart = (typeof TIME_PARTS)[number];

/** The default partitioning: by event date. */
export const DEFAULT_PARTITION_BY: readonly string[] = ['year', 'month', 'day'];

/** {@link TIME_PARTS} as a set: the partition names that are not item attributes. */
export const TIME_PART_SET: ReadonlySet<string> = new Set(TIME_PARTS);

/**
 * Longest partition value, in bytes once percent-encoded for the path. File systems cap one path segment at
 * 255 bytes (ENAMETOOLONG) and S3 keys at 1024; a longer value is a record error, not a write that fails forever.
 */
export const MAX_PARTITION_VALUE_BYTES = 200;

/**
 * Longest raw value (UTF-16 code units) that cannot exceed {@link MAX_PARTITION_VALUE_BYTES} once encoded: a code unit
 * is at most 3 UTF-8 bytes, each percent-encoded as 3 ASCII characters (and `''` becomes the 9 of `__empty__`).
 */
const MAX_SAFE_RAW_LENGTH = Math.floor(MAX_PARTITION_VALUE_BYTES / 9);

function attributeValue(images: ReadonlyArray<PlainItem | null>, attribute: string): string {
  for (const image of images) {
    if (image === null || !Object.hasOwn(image, attribute)) continue;
    const value = image[attribute];
    if (typeof value === 'string') return value;
    if (typeof value === 'boolean') return value ? 'true' : 'false';
    if (isLosslessNumber(value)) return value.value;
    if (value === null) throw new InvalidPartitionAttributeError(attribute, 'is NULL');
    throw new InvalidPartitionAttributeError(attribute, 'must be a string, number or boolean');
  }
  throw new MissingPartitionAttributeError(attribute);
}

/**
 * The Hive partitions of a change record. `spec` mixes item attributes (read from the new image,
 * or the old image for deletes and view types without one, then the keys) and the time parts `year|month|day|hour|minute`
 * (zero-padded UTC from the event time). Values are raw: {@link hivePath} sanitises them. An attribute value whose
 * encoded form exceeds {@link MAX_PARTITION_VALUE_BYTES} raises {@link InvalidPartitionAttributeError}.
 *
 * @example
 * hivePath(partitionsFor(record, ['siteId', 'year', 'month'])) // 'siteId=2/year=2024/month=03/'
 */
export function partitionsFor(
  record: ChangeRecord,
  spec: readonly string[] = DEFAULT_PARTITION_BY,
  eventTime: Date = new Date(record.ts),
): Partition[] {
  let parts: ReturnType<typeof timeParts> | undefined;
  // Deletes (and view types without a new image) are partitioned by the old image.
  const image = record.op === 'd' || record.after === null ? record.before : record.after;
  const images = [image, record.keys];
  return spec.map((column): Partition => {
    if (TIME_PART_SET.has(column)) {
      parts ??= timeParts(eventTime);
      return [column, parts[column as TimePart]];
    }
    const value = attributeValue(images, column);
    // Encoding only when the value could be too long: hivePath encodes it again for the path.
    if (value.length > MAX_SAFE_RAW_LENGTH) {
      // The encoded form (ASCII) is what reaches the path; report its length only (the value may be PHI).
      const encoded = sanitiseSegment(value).length;
      if (encoded > MAX_PARTITION_VALUE_BYTES)
        throw new InvalidPartitionAttributeError(
          column,
          `encoded value is ${encoded} bytes, over the ${MAX_PARTITION_VALUE_BYTES}-byte limit of a partition value`,
        );
    }
    return [column, value];
  });
}
