import { T, containsJson, exactNumbers, quoteIdentifier, sqlTypeText, withRequired } from './sql-type.js';
import { quoteLiteral, quotePath } from './sql-text.js';
import type { Column, DatasetKind, LakeView } from './types.js';

/**
 * The file argument of `read_json`: a glob below the dataset folder, or an explicit list when unreadable
 * files were left out.
 *
 * @example
 * fileSource('/lake/changes/visits') // "'/lake/changes/visits/**\/*.ndjson.gz'"
 */
export function fileSource(dir: string, files?: readonly string[]): string {
  if (!files) return quotePath(`${dir}/**/*.ndjson.gz`);
  return `[${files.map((f) => quotePath(f)).join(', ')}]`;
}

/**
 * `read_json` with schema detection over every line and file: the query layer runs it once per dataset
 * (`LIMIT 0`) to learn the columns, then builds the views with an explicit schema.
 *
 * @example
 * await connection.runAndReadAll(`SELECT * FROM ${detectingReader(source)} LIMIT 0`);
 */
export function detectingReader(source: string): string {
  return `read_json(${source}, format = 'newline_delimited', union_by_name = true, sample_size = -1)`;
}

/** Columns every view of a kind has, whatever the files hold (types forced, missing ones added as NULL). */
export const REQUIRED_COLUMNS: Record<DatasetKind, Column[]> = {
  fhir: [
    ['resourceType', T.varchar],
    ['id', T.varchar],
    [
      'meta',
      T.struct([
        ['versionId', T.varchar],
        ['lastUpdated', T.varchar],
      ]),
    ],
    ['_tombstone', T.boolean],
    ['_deletedAt', T.varchar],
  ],
  changes: [
    ['op', T.varchar],
    ['table', T.varchar],
    ['keys', T.json],
    ['before', T.json],
    ['after', T.json],
    ['eventId', T.varchar],
    ['seq', T.varchar],
    ['ts', T.varchar],
  ],
  events: [
    ['id', T.varchar],
    ['detail_type', T.varchar],
    ['source', T.varchar],
    ['time', T.varchar],
    ['resources', T.list(T.varchar)],
    ['detail', T.json],
  ],
  errors: [
    ['reason', T.varchar],
    ['errorType', T.varchar],
    ['eventId', T.varchar],
    [
      'source',
      T.struct([
        ['file', T.varchar],
        ['line', T.bigint],
      ]),
    ],
    ['record', T.json],
  ],
};

/**
 * The explicit schema of a dataset: the detected columns, the required ones added, and for change records
 * every number in `keys`/`before`/`after` that could round kept as JSON text (see {@link exactNumbers}).
 *
 * @example
 * viewSchema('fhir', []) // resourceType, id, meta{versionId, lastUpdated}, _tombstone, _deletedAt
 */
export function viewSchema(kind: DatasetKind, detected: readonly Column[]): Column[] {
  const required = REQUIRED_COLUMNS[kind];
  // Required types win, except where detection found a struct for a JSON-typed column: keep its fields.
  const keepDetected = (name: string) =>
    kind === 'changes' || kind === 'events' || kind === 'errors'
      ? ['keys', 'before', 'after', 'detail', 'record', 'time'].includes(name)
      : false;
  const columns = withRequired(
    detected,
    required.filter(([name]) => !(keepDetected(name) && detected.some(([n]) => n === name))),
  );
  if (kind !== 'changes') return columns;
  return columns.map(([name, type]) => [name, ['keys', 'before', 'after'].includes(name) ? exactNumbers(type) : type]);
}

/**
 * `SELECT` over the files (`null`: none) with the explicit schema, Hive partition columns and `_file`; columns holding
 * JSON are cast back to JSON (`read_json` hands their verbatim text over as VARCHAR).
 */
function selectFrom(source: string | null, columns: readonly Column[]): string {
  // No files yet: an empty relation with the same columns (read_json refuses an empty file list).
  if (source === null)
    return `SELECT ${columns.map(([name, type]) => `CAST(NULL AS ${sqlTypeText(type)}) AS ${quoteIdentifier(name)}`).join(', ')}, CAST(NULL AS VARCHAR) AS _file WHERE false`;
  const spec = columns.map(([name, type]) => `${quoteLiteral(name)}: ${quoteLiteral(sqlTypeText(type))}`).join(', ');
  const casts = columns
    .filter(([, type]) => containsJson(type))
    .map(([name, type]) => `CAST(${quoteIdentifier(name)} AS ${sqlTypeText(type)}) AS ${quoteIdentifier(name)}`);
  const star = casts.length > 0 ? `* REPLACE (${casts.join(', ')})` : '*';
  return `SELECT ${star} FROM read_json(${source}, format = 'newline_delimited', columns = {${spec}}, hive_partitioning = true, hive_types_autocast = false, filename = '_file')`;
}

/** Export time from a file name `YYYYMMDDTHHMMSS.mmmZ_…` (the export's transactionTime); NULL for older names. */
const EXPORT_TIME = `try_strptime(regexp_extract(parse_filename(_file), '^(\\d{8}T\\d{6}\\.\\d{3}Z)_', 1), '%Y%m%dT%H%M%S.%gZ')`;

/**
 * The views of one dataset: `changes_<table>`, `fhir_<type>_history` + `fhir_<type>`, `events` or `errors`.
 *
 * @example
 * viewsFor({ kind: 'events', name: 'events', label: 'events' }, fileSource('/lake/events'), schema)
 */
export function viewsFor(
  dataset: { kind: DatasetKind; name: string; label: string },
  source: string | null,
  columns: readonly Column[],
): LakeView[] {
  const { kind, name, label } = dataset;
  const from = selectFrom(source, columns);
  switch (kind) {
    case 'changes':
      // Delivery is at least once: a replayed record lands again under the same eventId; show it once.
      return [
        {
          name,
          description: `change records of table ${label}`,
          sql: `CREATE VIEW ${name} AS SELECT * EXCLUDE (_file) FROM (${from}) QUALIFY row_number() OVER (PARTITION BY eventId ORDER BY seq, _file) = 1`,
        },
      ];
    case 'events':
      return [
        {
          name,
          description: 'events published to the local bus',
          sql: `CREATE VIEW ${name} AS SELECT * EXCLUDE (_file) FROM (${from})`,
        },
      ];
    case 'errors':
      return [
        {
          name,
          description: 'records that could not be processed, with the reason',
          sql: `CREATE VIEW ${name} AS SELECT * EXCLUDE (_file) FROM (${from})`,
        },
      ];
    case 'fhir': {
      const data = columns.map(([column]) => quoteIdentifier(column)).join(', ');
      const deleted = 'coalesce(_tombstone, false)';
      return [
        {
          name: `${name}_history`,
          description: `every exported version of ${label}, tombstones included, with _export_time`,
          // A window exported twice (a failed run retried) lands the same version twice: keep the first landing
          // per (id, version, tombstone); without meta.versionId, identical content is the same version.
          sql: `CREATE VIEW ${name}_history AS SELECT *, ${EXPORT_TIME} AS _export_time FROM (${from})
            QUALIFY row_number() OVER (
              PARTITION BY id, ${deleted}, coalesce(meta.versionId, 'h' || hash(${data})::VARCHAR)
              ORDER BY ${EXPORT_TIME} NULLS FIRST, _file) = 1`,
        },
        {
          name,
          description: `current ${label} resources (latest version, deleted ones removed)`,
          // Latest export first, then meta.lastUpdated, a tombstone winning a tie, then versionId (numeric when
          // it is); files without an export time in their name (older lakes) count as oldest.
          sql: `CREATE VIEW ${name} AS SELECT * EXCLUDE (_tombstone, _deletedAt) FROM ${name}_history
            QUALIFY row_number() OVER (
              PARTITION BY id ORDER BY _export_time DESC NULLS LAST,
                TRY_CAST(meta.lastUpdated AS TIMESTAMPTZ) DESC NULLS LAST, meta.lastUpdated DESC NULLS LAST,
                ${deleted} DESC, TRY_CAST(meta.versionId AS HUGEINT) DESC NULLS LAST, meta.versionId DESC NULLS LAST) = 1
              AND NOT ${deleted}`,
        },
      ];
    }
  }
}
