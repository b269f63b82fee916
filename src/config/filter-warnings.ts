import { TIME_PART_SET } from '../change-stream/partitions.js';
import type { TributaryConfig } from './schema.js';

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Which records a stream view type carries no item image for (undefined: every record has one). */
const UNPARTITIONABLE: Partial<Record<TributaryConfig['tables'][number]['stream'], string>> = {
  NEW_IMAGE: 'deletes',
  OLD_IMAGE: 'inserts',
  KEYS_ONLY: 'any record',
};

/** Where DynamoDB attribute values sit in a stream record: always `{ <type>: <string or list> }`. */
const IMAGES = new Set(['NewImage', 'OldImage', 'Keys']);

/** Paths (keys from the pattern root) of every leaf list that holds a `numeric` matcher. */
function numericLeaves(node: unknown, path: string[], found: string[][]): void {
  if (Array.isArray(node)) {
    if (node.some((entry) => isPlainObject(entry) && Object.hasOwn(entry, 'numeric'))) found.push(path);
    return;
  }
  if (!isPlainObject(node)) return;
  for (const [key, value] of Object.entries(node)) {
    // `$or` alternatives match at the same level as the `$or` itself.
    if (key === '$or' && Array.isArray(value) && value.every(isPlainObject))
      value.forEach((alternative) => numericLeaves(alternative, path, found));
    else numericLeaves(value, [...path, key], found);
  }
}

/**
 * Warnings about config that is valid but cannot do what it says: a `numeric` matcher on a DynamoDB attribute value
 * never matches, because the filter runs on the stream record, where every attribute value is a string
 * (`{"N": "42"}`), as in AWS Pipes; and a `partitionBy` attribute read from an item image the table's stream view
 * type does not carry for some records (deletes of NEW_IMAGE, inserts of OLD_IMAGE, all of KEYS_ONLY). Never throws;
 * never echoes values.
 *
 * @example
 * configWarnings(parseConfig({ tables: [{ name: 'visits', partitionKey: 'id',
 *   pipe: { filter: [{ dynamodb: { NewImage: { age: { N: [{ numeric: ['>', 5] }] } } } }] } }] }));
 * // ['tables.0.pipe.filter[0].dynamodb.NewImage.age.N: a numeric matcher never matches here: …']
 */
export function configWarnings(config: TributaryConfig): string[] {
  const warnings: string[] = [];
  config.tables.forEach((table, tableIndex) => {
    const unpartitionable = UNPARTITIONABLE[table.stream];
    const keys = new Set([table.partitionKey, ...(table.sortKey ? [table.sortKey] : [])]);
    const fromImages = (table.pipe?.partitionBy ?? []).filter(
      (column) => !TIME_PART_SET.has(column) && !keys.has(column),
    );
    if (unpartitionable && fromImages.length > 0)
      warnings.push(
        `tables.${tableIndex}: partitionBy ${fromImages.join(', ')} is read from the item's image, which a ${table.stream} ` +
          `stream does not carry for ${unpartitionable}: those records go to _errors/ (MissingPartitionAttribute) instead ` +
          'of the lake; use stream NEW_AND_OLD_IMAGES, or partition by key attributes and time only',
      );
    table.pipe?.filter.forEach((pattern, patternIndex) => {
      const found: string[][] = [];
      numericLeaves(pattern, [], found);
      for (const path of found) {
        const onAttribute = (path[0] === 'dynamodb' && IMAGES.has(path[1] ?? '')) || path.at(-1) === 'N';
        if (!onAttribute) continue;
        warnings.push(
          `tables.${tableIndex}.pipe.filter[${patternIndex}].${path.join('.')}: a numeric matcher never matches here: ` +
            'stream records carry DynamoDB numbers as strings ({"N": "42"}), as in AWS; ' +
            'match exact strings ({"N": ["42"]}) or a prefix instead, or filter the landed records with `tributary query`',
        );
      }
    });
  });
  return warnings;
}
