import type { TributaryConfig } from './schema.js';

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

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
 * Warnings about config that is valid but cannot do what it says. Today: a `numeric` matcher on a DynamoDB
 * attribute value never matches, because the filter runs on the stream record, where every attribute value
 * is a string (`{"N": "42"}`), as in AWS Pipes. Never throws; never echoes values.
 *
 * @example
 * configWarnings(parseConfig({ tables: [{ name: 'visits', partitionKey: 'id',
 *   pipe: { filter: [{ dynamodb: { NewImage: { age: { N: [{ numeric: ['>', 5] }] } } } }] } }] }));
 * // ['tables.0.pipe.filter[0].dynamodb.NewImage.age.N: a numeric matcher never matches here: …']
 */
export function configWarnings(config: TributaryConfig): string[] {
  const warnings: string[] = [];
  config.tables.forEach((table, tableIndex) => {
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
