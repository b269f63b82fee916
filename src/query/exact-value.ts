import {
  DuckDBArrayType,
  DuckDBListType,
  DuckDBMapType,
  DuckDBStructType,
  DuckDBTypeId,
  type DuckDBType,
} from '@duckdb/node-api';
import { LosslessNumber, isSafeNumber, parse } from 'lossless-json';

const INTEGER_TEXT = new Set([
  DuckDBTypeId.BIGINT,
  DuckDBTypeId.UBIGINT,
  DuckDBTypeId.HUGEINT,
  DuckDBTypeId.UHUGEINT,
  DuckDBTypeId.BIGNUM,
]);

/** A number's text as a JS number when that is exact, else as a LosslessNumber (keeps every digit). */
const exactNumber = (text: string): number | LosslessNumber =>
  isSafeNumber(text) ? Number(text) : new LosslessNumber(text);

/**
 * Turns a value from DuckDB's `getRowObjectsJson` (which gives BIGINT and DECIMAL as strings, and JSON
 * columns as their text) into a JSON value with exact numbers: `number` when exact, else `LosslessNumber`.
 * DECIMAL stays a LosslessNumber so its scale shows (`1.50`).
 *
 * @example
 * exactValue(bigintType, '42') // 42
 */
export function exactValue(type: DuckDBType, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (type.alias === 'JSON' && typeof value === 'string') {
    try {
      return parse(value, null, (text) => exactNumber(text));
    } catch {
      return value;
    }
  }
  if (typeof value === 'string') {
    if (INTEGER_TEXT.has(type.typeId) && /^-?\d+$/.test(value)) return exactNumber(value);
    if (type.typeId === DuckDBTypeId.DECIMAL && /^-?\d+(\.\d+)?$/.test(value)) return new LosslessNumber(value);
    return value;
  }
  if (type instanceof DuckDBStructType && typeof value === 'object' && !Array.isArray(value)) {
    const object = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    type.entryNames.forEach((name, i) => (out[name] = exactValue(type.entryTypes[i]!, object[name])));
    return out;
  }
  if ((type instanceof DuckDBListType || type instanceof DuckDBArrayType) && Array.isArray(value))
    return value.map((item) => exactValue(type.valueType, item));
  if (type instanceof DuckDBMapType && Array.isArray(value))
    return value.map((entry: { key: unknown; value: unknown }) => ({
      key: exactValue(type.keyType, entry.key),
      value: exactValue(type.valueType, entry.value),
    }));
  return value;
}
