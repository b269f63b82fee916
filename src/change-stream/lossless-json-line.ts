import { isLosslessNumber, LosslessNumber } from 'lossless-json';

/** `"key":` text per object key. Keys repeat across records, so caching skips most escaping. */
const keyTexts = new Map<string, string>();
/** Bound on cached keys, so odd data (e.g. ids used as keys) cannot grow memory without limit. */
const MAX_CACHED_KEYS = 4096;

/**
 * The `"key":` text of an object key, cached (bounded): keys repeat across records.
 *
 * @example
 * keyText('siteId') // '"siteId":'
 */
export function keyText(key: string): string {
  let text = keyTexts.get(key);
  if (text === undefined) {
    text = `${JSON.stringify(key)}:`;
    if (keyTexts.size >= MAX_CACHED_KEYS) keyTexts.clear();
    keyTexts.set(key, text);
  }
  return text;
}

function writeObject(record: Record<string, unknown>): string {
  let out = '{';
  let first = true;
  for (const key in record) {
    if (!Object.hasOwn(record, key)) continue;
    const written = writeValue(record[key]);
    if (written === undefined) continue;
    out += first ? keyText(key) + written : `,${keyText(key)}${written}`;
    first = false;
  }
  return `${out}}`;
}

function writeValue(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString();
    case 'object': {
      if (value === null) return 'null';
      // `instanceof` first: monomorphic and fast for numbers from this module's unmarshalling.
      if (value instanceof LosslessNumber) return value.value;
      if (Array.isArray(value)) {
        let out = '[';
        for (let index = 0; index < value.length; index++) {
          if (index > 0) out += ',';
          out += writeValue(value[index]) ?? 'null';
        }
        return `${out}]`;
      }
      if (isLosslessNumber(value)) return value.value;
      if (value instanceof Uint8Array)
        return `"${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64')}"`;
      const withToJson = value as { toJSON?: () => unknown };
      if (typeof withToJson.toJSON === 'function') return writeValue(withToJson.toJSON());
      return writeObject(value as Record<string, unknown>);
    }
    default:
      return undefined; // undefined and functions are skipped, as JSON.stringify does
  }
}

/**
 * Serialises to one line of JSON, writing {@link LosslessNumber}s as their exact digits and bytes
 * as base64. About as fast as `JSON.stringify`, and never rounds a number.
 *
 * @example
 * stringifyLossless({ n: new LosslessNumber('12345678901234567890') }) // '{"n":12345678901234567890}'
 */
export function stringifyLossless(value: unknown): string {
  return writeValue(value) ?? 'null';
}
