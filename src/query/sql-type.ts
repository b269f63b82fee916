import {
  DuckDBListType,
  DuckDBArrayType,
  DuckDBMapType,
  DuckDBStructType,
  DuckDBTypeId,
  type DuckDBType,
} from '@duckdb/node-api';
import type { Column, SqlType } from './types.js';

const BIGINT_IDS = new Set([DuckDBTypeId.TINYINT, DuckDBTypeId.SMALLINT, DuckDBTypeId.INTEGER, DuckDBTypeId.BIGINT]);
const INEXACT_IDS = new Set([
  DuckDBTypeId.FLOAT,
  DuckDBTypeId.DOUBLE,
  DuckDBTypeId.HUGEINT,
  DuckDBTypeId.UHUGEINT,
  DuckDBTypeId.UBIGINT,
  DuckDBTypeId.DECIMAL,
]);

/**
 * Reads a DuckDB type (as detected by `read_json`) into a {@link SqlType}.
 *
 * @example
 * fromDuckDBType(reader.columnTypes()[0]!) // { kind: 'struct', fields: [['versionId', …]] }
 */
export function fromDuckDBType(type: DuckDBType): SqlType {
  if (type.alias === 'JSON') return { kind: 'json' };
  if (type instanceof DuckDBStructType)
    return { kind: 'struct', fields: type.entryNames.map((name, i) => [name, fromDuckDBType(type.entryTypes[i]!)]) };
  if (type instanceof DuckDBListType || type instanceof DuckDBArrayType)
    return { kind: 'list', of: fromDuckDBType(type.valueType) };
  if (type instanceof DuckDBMapType)
    return { kind: 'map', key: fromDuckDBType(type.keyType), value: fromDuckDBType(type.valueType) };
  const numeric = BIGINT_IDS.has(type.typeId) ? 'bigint' : INEXACT_IDS.has(type.typeId) ? 'inexact' : false;
  return { kind: 'scalar', sql: type.toString(), numeric };
}

/** `"name"`, for identifiers in SQL and struct field names. */
export const quoteIdentifier = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/**
 * Spells a type in SQL.
 *
 * @example
 * sqlTypeText({ kind: 'list', of: { kind: 'json' } }) // 'JSON[]'
 */
export function sqlTypeText(type: SqlType): string {
  switch (type.kind) {
    case 'json':
      return 'JSON';
    case 'scalar':
      return type.sql;
    case 'list':
      return `${sqlTypeText(type.of)}[]`;
    case 'map':
      return `MAP(${sqlTypeText(type.key)}, ${sqlTypeText(type.value)})`;
    case 'struct':
      // DuckDB has no empty STRUCT; an object without keys is kept as JSON.
      if (type.fields.length === 0) return 'JSON';
      return `STRUCT(${type.fields.map(([name, t]) => `${quoteIdentifier(name)} ${sqlTypeText(t)}`).join(', ')})`;
  }
}

/**
 * Replaces every number type that can round (DOUBLE, HUGEINT, DECIMAL, …) by VARCHAR, which `read_json`
 * fills with the number's text as written: DynamoDB numbers have up to 38 digits. Text, not JSON, because
 * DuckDB casts JSON to DECIMAL through DOUBLE, while `CAST(text AS DECIMAL(38,s))` is exact. BIGINT stays:
 * detection only picks it when every value fits, so it is exact.
 *
 * @example
 * exactNumbers({ kind: 'scalar', sql: 'DOUBLE', numeric: 'inexact' }) // VARCHAR
 */
export function exactNumbers(type: SqlType): SqlType {
  switch (type.kind) {
    case 'scalar':
      return type.numeric === 'inexact' ? { kind: 'scalar', sql: 'VARCHAR', numeric: false } : type;
    case 'list':
      return { kind: 'list', of: exactNumbers(type.of) };
    case 'map':
      return { kind: 'map', key: type.key, value: exactNumbers(type.value) };
    case 'struct':
      return { kind: 'struct', fields: type.fields.map(([name, t]) => [name, exactNumbers(t)]) };
    case 'json':
      return type;
  }
}

/**
 * Adds the required columns (and required struct fields) that the detected schema lacks, and forces their
 * types, so views bind on any data: a lake whose resources have no `meta`, or only tombstones, still has
 * `meta.versionId`.
 *
 * @example
 * withRequired([['id', varchar]], [['meta', { kind: 'struct', fields: [['versionId', varchar]] }]])
 */
export function withRequired(detected: readonly Column[], required: readonly Column[]): Column[] {
  const columns = new Map<string, SqlType>(detected);
  for (const [name, type] of required) columns.set(name, merge(columns.get(name), type));
  return [...columns];
}

function merge(found: SqlType | undefined, wanted: SqlType): SqlType {
  if (wanted.kind !== 'struct' || found?.kind !== 'struct') return wanted;
  const fields = new Map<string, SqlType>(found.fields);
  for (const [name, type] of wanted.fields) fields.set(name, merge(fields.get(name), type));
  return { kind: 'struct', fields: [...fields] };
}

/** True when a JSON value is somewhere inside the type (it reads as VARCHAR and needs a cast back to JSON). */
export function containsJson(type: SqlType): boolean {
  switch (type.kind) {
    case 'json':
      return true;
    case 'scalar':
      return false;
    case 'list':
      return containsJson(type.of);
    case 'map':
      return containsJson(type.key) || containsJson(type.value);
    case 'struct':
      return type.fields.length === 0 || type.fields.some(([, t]) => containsJson(t));
  }
}

/** Shorthands for the fixed columns. */
export const T = {
  varchar: { kind: 'scalar', sql: 'VARCHAR', numeric: false } as SqlType,
  boolean: { kind: 'scalar', sql: 'BOOLEAN', numeric: false } as SqlType,
  bigint: { kind: 'scalar', sql: 'BIGINT', numeric: 'bigint' } as SqlType,
  json: { kind: 'json' } as SqlType,
  struct: (fields: Array<[string, SqlType]>): SqlType => ({ kind: 'struct', fields }),
  list: (of: SqlType): SqlType => ({ kind: 'list', of }),
};
