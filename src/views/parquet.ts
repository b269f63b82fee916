import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { FHIR_TEXT_TYPES } from './fhirpath/type-names.js';
import type { Row, ViewColumn } from './types.js';
import { quoteLiteral } from '../query/sql-text.js';

// DuckDB type of a column from its FHIR type tag. Dates, dateTimes and times stay text: FHIR allows partial
// values (`1970-06`) that DATE/TIMESTAMP cannot hold. Decimals are DOUBLE (the engine's own number type).
const SQL_TYPES: Readonly<Record<string, string>> = {
  boolean: 'BOOLEAN',
  integer: 'INTEGER',
  positiveInt: 'INTEGER',
  unsignedInt: 'INTEGER',
  integer64: 'BIGINT',
  decimal: 'DOUBLE',
  instant: 'TIMESTAMPTZ',
};
const TEXT_TYPES = new Set(FHIR_TEXT_TYPES);

/**
 * The DuckDB (and so Parquet) type of a view column: from its `type` tag, a list for collections, JSON for
 * complex or untyped columns.
 *
 * @example
 * columnSqlType({ name: 'given', type: 'string', collection: true }) // 'VARCHAR[]'
 */
export function columnSqlType(column: ViewColumn): string {
  const type = column.type ?? '';
  const scalar = SQL_TYPES[type] ?? (TEXT_TYPES.has(type) ? 'VARCHAR' : 'JSON');
  return column.collection ? `${scalar}[]` : scalar;
}

/** `"name"`, a SQL identifier. */
export const quote = (name: string): string => `"${name.replace(/"/g, '""')}"`;
/** `'text'`, a SQL string literal (one definition, in src/query/sql-text.ts). */
export const literal = quoteLiteral;

/**
 * Writes rows to a Parquet file with DuckDB (already a dependency): rows stream to a temporary NDJSON file, then
 * one `COPY … TO (FORMAT parquet)` reads it with the columns typed from the view, so memory stays flat.
 *
 * @example
 * const rows = await writeParquet(view.columns, runView(view, resources, hooks), 'out.parquet');
 */
export async function writeParquet(
  columns: readonly ViewColumn[],
  rows: AsyncIterable<Row>,
  output: string,
): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'tributary-view-'));
  try {
    const staging = join(dir, 'rows.ndjson');
    const stream = createWriteStream(staging);
    let count = 0;
    for await (const row of rows) {
      if (!stream.write(`${JSON.stringify(row)}\n`)) await once(stream, 'drain');
      count += 1;
    }
    stream.end();
    await once(stream, 'finish');
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      const types = columns.map((column) => `${literal(column.name)}: ${literal(columnSqlType(column))}`).join(', ');
      const select = columns.map((column) => quote(column.name)).join(', ');
      await connection.run(
        `COPY (SELECT ${select} FROM read_json(${literal(staging)}, format = 'newline_delimited', columns = {${types}})) ` +
          `TO ${literal(output)} (FORMAT parquet)`,
      );
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
    return count;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
