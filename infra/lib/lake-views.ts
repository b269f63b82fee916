import type * as glue from 'aws-cdk-lib/aws-glue';
import { columnSqlType } from '../../src/views/parquet.js';
import { HIDDEN_VIEW_COLUMNS } from '../../src/views/lake/layout.js';
import type { ViewColumn } from '../../src/views/types.js';
import { currentOrderSql } from '../../src/lake/change-order.js';

/** Parquet SerDe and formats of the `views/` and `current/` tables (written by DuckDB). */
export const PARQUET_SERDE = 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe';
export const PARQUET_INPUT_FORMAT = 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat';
export const PARQUET_OUTPUT_FORMAT = 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat';

/** A materialised ViewDefinition to catalogue: its name and compiled columns (`compileView(...).columns`). */
export interface CatalogView {
  readonly name: string;
  readonly columns: readonly ViewColumn[];
}

// DuckDB type (what the lake's Parquet holds, `columnSqlType`) → Hive type (Glue) and Presto type (view columns).
// JSON is stored as text. TIMESTAMPTZ is a UTC-adjusted Parquet timestamp, which Athena reads as `timestamp`.
const TYPES: Readonly<Record<string, { hive: string; presto: string }>> = {
  BOOLEAN: { hive: 'boolean', presto: 'boolean' },
  INTEGER: { hive: 'int', presto: 'integer' },
  BIGINT: { hive: 'bigint', presto: 'bigint' },
  DOUBLE: { hive: 'double', presto: 'double' },
  TIMESTAMPTZ: { hive: 'timestamp', presto: 'timestamp' },
  VARCHAR: { hive: 'string', presto: 'varchar' },
  JSON: { hive: 'string', presto: 'varchar' },
};

function typesOf(column: ViewColumn): { hive: string; presto: string } {
  const duck = columnSqlType(column);
  const list = duck.endsWith('[]');
  const scalar = TYPES[list ? duck.slice(0, -2) : duck] ?? TYPES.VARCHAR!;
  return list ? { hive: `array<${scalar.hive}>`, presto: `array(${scalar.presto})` } : scalar;
}

/**
 * The Hive (Glue) type of a view column: the Parquet type the lake writer gives it, from its `type` tag.
 *
 * @example
 * hiveTypeOf({ name: 'given', type: 'string', collection: true }) // 'array<string>'
 */
export function hiveTypeOf(column: ViewColumn): string {
  return typesOf(column).hive;
}

const HIDDEN_TYPES: Record<(typeof HIDDEN_VIEW_COLUMNS)[number], string> = {
  _resource_key: 'string',
  _run: 'string',
  _marker: 'boolean',
  _deleted: 'boolean',
  _base: 'boolean',
};

/** Glue columns of a view's file table: the view's columns (lower-cased, as Glue names them), then the hidden ones. */
export function viewFileColumns(view: CatalogView): glue.CfnTable.ColumnProperty[] {
  return [
    ...view.columns.map((column) => ({
      name: column.name.toLowerCase(),
      type: hiveTypeOf(column),
      ...(column.description ? { comment: column.description.slice(0, 255) } : {}),
    })),
    ...HIDDEN_VIEW_COLUMNS.map((name) => ({ name, type: HIDDEN_TYPES[name] })),
  ];
}

/** Columns of a `current/<table>/` delta (src/lake/current-state.ts), lower-cased as Glue names them. */
export const CURRENT_FILE_COLUMNS: glue.CfnTable.ColumnProperty[] = [
  { name: '_key', type: 'string', comment: 'the keys as JSON text' },
  { name: 'keys', type: 'string', comment: 'JSON' },
  { name: 'item', type: 'string', comment: 'JSON: the latest image (NULL for a delete)' },
  { name: '_deleted', type: 'boolean' },
  { name: 'seq', type: 'string', comment: 'stream sequence number (compare as a number)' },
  { name: 'ts', type: 'string', comment: 'ISO-8601 UTC event time' },
  { name: 'eventid', type: 'string' },
  {
    name: '_order',
    type: 'string',
    comment: 'order key: source time | kind rank | seq (see src/lake/change-order.ts)',
  },
];

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * The merge-on-read rule over a view's file table, in SQL both Athena (Trino) and DuckDB run: rows of runs before the
 * latest base are ignored; per `_resource_key`, only the rows of its latest `_run` count; marker rows (and so deleted
 * keys) are dropped; the hidden columns are left out. The same rule as `parquetViewSql` (src/query/parquet-views.ts).
 *
 * @example
 * viewReadSql('view_patient_files', ['id', 'gender'])
 */
export function viewReadSql(filesTable: string, columns: readonly string[]): string {
  return [
    `SELECT ${columns.map((column) => ident(column.toLowerCase())).join(', ')}`,
    `FROM (`,
    `  SELECT d.*, max(d."_run") OVER (PARTITION BY d."_resource_key") AS "_latest"`,
    `  FROM ${filesTable} d`,
    `  WHERE d."_run" >= (SELECT coalesce(max("_run"), '') FROM ${filesTable} WHERE "_base")`,
    `) t`,
    `WHERE "_run" = "_latest" AND NOT "_marker"`,
  ].join('\n');
}

/**
 * The current state over a `current/<table>/` file table: per `_key`, the latest record by `currentOrderSql` (source
 * time, then stream over export over snapshot, then `seq` as a number), deletes dropped. The same rule as `parquetViewSql` for `current_<table>`.
 *
 * @example
 * currentReadSql('current_visits_files')
 */
export function currentReadSql(filesTable: string): string {
  return [
    `SELECT keys, item, seq, ts, eventid`,
    `FROM (`,
    `  SELECT f.*, row_number() OVER (PARTITION BY f."_key" ORDER BY ${currentOrderSql('f')} DESC, f.ts DESC) AS "_rank"`,
    `  FROM ${filesTable} f`,
    `) t`,
    `WHERE "_rank" = 1 AND NOT "_deleted"`,
  ].join('\n');
}

/** The columns of `current_<table>`: Hive types for Glue, Presto types for the view text. */
export const CURRENT_VIEW_COLUMNS = CURRENT_FILE_COLUMNS.filter((column) => !column.name.startsWith('_'));

/** Presto view payload Athena stores in `viewOriginalText`. */
export interface PrestoViewData {
  originalSql: string;
  catalog: string;
  schema: string;
  columns: Array<{ name: string; type: string }>;
}

const PRESTO_PREFIX = '/* Presto View: ';
const PRESTO_SUFFIX = ' */';

/**
 * The Glue TableInput of an Athena view: `VIRTUAL_VIEW`, `presto_view` flag, the view's SQL and columns
 * base64-encoded in `viewOriginalText` (`/* Presto View: <base64 JSON> *\/`), Hive-typed Glue columns.
 */
export function prestoViewInput(options: {
  name: string;
  description: string;
  databaseName: string;
  sql: string;
  columns: ReadonlyArray<{ name: string; hive: string; presto: string }>;
}): glue.CfnTable.TableInputProperty {
  const data: PrestoViewData = {
    originalSql: options.sql,
    catalog: 'awsdatacatalog',
    schema: options.databaseName,
    columns: options.columns.map((column) => ({ name: column.name, type: column.presto })),
  };
  return {
    name: options.name,
    description: options.description,
    tableType: 'VIRTUAL_VIEW',
    parameters: { presto_view: 'true', comment: 'Presto View' },
    viewOriginalText: PRESTO_PREFIX + Buffer.from(JSON.stringify(data)).toString('base64') + PRESTO_SUFFIX,
    viewExpandedText: '/* Presto View */',
    partitionKeys: [],
    storageDescriptor: {
      columns: options.columns.map((column) => ({ name: column.name, type: column.hive })),
      serdeInfo: {},
    },
  };
}

/** Decodes `viewOriginalText` of an Athena view (tests, support). */
export function decodePrestoView(text: string): PrestoViewData {
  if (!text.startsWith(PRESTO_PREFIX) || !text.endsWith(PRESTO_SUFFIX)) throw new Error('not a Presto view text');
  const base64 = text.slice(PRESTO_PREFIX.length, -PRESTO_SUFFIX.length);
  return JSON.parse(Buffer.from(base64, 'base64').toString('utf8')) as PrestoViewData;
}

/** Visible columns of a view with both type systems, for {@link prestoViewInput}. */
export function viewColumnsForPresto(view: CatalogView): Array<{ name: string; hive: string; presto: string }> {
  return view.columns.map((column) => ({ name: column.name.toLowerCase(), ...typesOf(column) }));
}

/** Visible columns of `current_<table>` with both type systems. */
export function currentColumnsForPresto(): Array<{ name: string; hive: string; presto: string }> {
  return CURRENT_VIEW_COLUMNS.map((column) => ({
    name: column.name,
    hive: column.type!,
    presto: column.type === 'boolean' ? 'boolean' : 'varchar',
  }));
}
