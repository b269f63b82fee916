/** One view `tributary query` offers over the lake. */
export interface LakeView {
  /** SQL name, e.g. `changes_visits`, `fhir_patient`, `events`. */
  name: string;
  /** What it holds, for `--help` and `query --views`. */
  description: string;
  /** `CREATE VIEW` statement. */
  sql: string;
}

/**
 * A row as returned to callers: JSON values. Numbers are `number` when exact, else lossless-json's
 * `LosslessNumber` (big BIGINT/HUGEINT, every DECIMAL, big numbers inside JSON values), so nothing is rounded.
 */
export type Row = Record<string, unknown>;

/** The result of a query: column names in order, and rows. */
export interface QueryResult {
  columns: string[];
  rows: Row[];
}

/** Which part of the lake a dataset comes from; decides its view SQL and its fixed columns. */
export type DatasetKind = 'changes' | 'fhir' | 'events' | 'errors';

/** A folder of gzip NDJSON files that becomes one view (or two, for FHIR). */
export interface LakeDataset {
  kind: DatasetKind;
  /** View name, e.g. `changes_visits`, `fhir_patient`, `events`. */
  name: string;
  /** The table, resource type or folder as written in the lake (decoded). */
  label: string;
  /** Absolute folder of the dataset. */
  dir: string;
  /** Absolute paths of its `.ndjson.gz` files, sorted. */
  files: string[];
}

/**
 * A column type as the views need it: DuckDB's types, with `json` for values kept as their JSON text
 * (exact numbers) and nested types spelled out so they can be rewritten.
 */
export type SqlType =
  | { kind: 'json' }
  | { kind: 'scalar'; sql: string; numeric: 'bigint' | 'inexact' | false }
  | { kind: 'struct'; fields: Array<[name: string, type: SqlType]> }
  | { kind: 'list'; of: SqlType }
  | { kind: 'map'; key: SqlType; value: SqlType };

/** A named column of a view's explicit schema. */
export type Column = [name: string, type: SqlType];

/** Something the query layer left out, and why (ids and reasons only, never values). */
export interface LakeWarning {
  /** The view or the file (relative to the lake) concerned. */
  subject: string;
  reason: string;
}
