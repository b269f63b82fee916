import { join, relative } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { currentOrderSql } from '../lake/change-order.js';
import { safeReason } from './errors.js';
import { listEntries, viewIdentifier } from './lake-datasets.js';
import { quotePath } from './sql-text.js';
import type { LakeView, LakeWarning } from './types.js';

/** A folder of Parquet files that becomes one view: a materialised ViewDefinition or a table's current state. */
export interface ParquetDataset {
  kind: 'view' | 'current';
  /** `view_<name>` or `current_<table>`. */
  name: string;
  /** The view or table as written in the lake. */
  label: string;
  files: string[];
}

async function parquetFiles(dir: string): Promise<string[]> {
  // Synchronous: one call instead of a round trip per folder (much faster on lakes of many partitions).
  return listEntries(dir, true)
    .filter((e) => e.isFile() && e.name.endsWith('.parquet') && !e.name.startsWith('.'))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

async function folders(dir: string): Promise<string[]> {
  return listEntries(dir, false)
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
}

/**
 * The Parquet datasets of a lake: `views/<name>/` (materialised ViewDefinitions) and `current/<table>/` (latest image
 * per key of a change-stream table), each with its files; folders without files are left out.
 *
 * @example
 * (await discoverParquetDatasets('.tributary/lake')).map((d) => d.name) // ['view_patient', 'current_visits']
 */
export async function discoverParquetDatasets(lake: string): Promise<ParquetDataset[]> {
  const out: ParquetDataset[] = [];
  for (const [kind, folder] of [
    ['view', 'views'],
    ['current', 'current'],
  ] as const) {
    for (const name of await folders(join(lake, folder))) {
      const files = await parquetFiles(join(lake, folder, name));
      const label = decodeURIComponent(name);
      if (files.length > 0) out.push({ kind, name: `${kind}_${viewIdentifier(label)}`, label, files });
    }
  }
  return out;
}

/**
 * The `CREATE VIEW` of a Parquet dataset (merge-on-read):
 *
 * - `view_<name>`: files of runs older than the latest base are ignored; per `_resource_key`, only the rows of its
 *   latest `_run` count, and marker rows (and so deleted keys) are dropped; hidden columns are left out.
 * - `current_<table>`: per `_key`, the latest record (`currentOrderSql`: source time, then kind, then `seq`), deletes
 *   dropped.
 *
 * @example
 * parquetViewSql({ kind: 'view', name: 'view_patient', label: 'patient', files: ['/lake/views/patient/run=…/patient.parquet'] })
 */
export function parquetViewSql(dataset: ParquetDataset, options: { legacyCurrent?: boolean } = {}): string {
  const source = `read_parquet([${dataset.files.map((f) => quotePath(f)).join(', ')}], union_by_name = true, hive_partitioning = false)`;
  if (dataset.kind === 'view')
    return `CREATE VIEW ${dataset.name} AS
      WITH deltas AS (SELECT * FROM ${source}),
           base AS (SELECT coalesce(max(_run), '') AS run FROM deltas WHERE _base)
      SELECT * EXCLUDE (_resource_key, _run, _marker, _deleted, _base, _latest) FROM (
        SELECT deltas.*, max(deltas._run) OVER (PARTITION BY deltas._resource_key) AS _latest
        FROM deltas, base WHERE deltas._run >= base.run)
      WHERE _run = _latest AND NOT _marker`;
  // Deltas written before `_order` existed lack the column; when none has it, order them as such rows.
  const order = options.legacyCurrent ? `'|2|' || lpad(seq, 40, '0')` : currentOrderSql();
  return `CREATE VIEW ${dataset.name} AS
    SELECT * EXCLUDE (_key, _deleted${options.legacyCurrent ? '' : ', _order'}) FROM ${source}
    QUALIFY row_number() OVER (PARTITION BY _key ORDER BY ${order} DESC, ts DESC) = 1 AND NOT _deleted`;
}

/**
 * Creates `view_<name>` and `current_<table>` over the lake's Parquet datasets, tolerantly: a file DuckDB cannot read
 * is left out with a warning, and a view that still fails is left out with a warning; the others work.
 *
 * @example
 * const { views, warnings } = await createParquetViews(connection, '.tributary/lake');
 */
export async function createParquetViews(
  connection: DuckDBConnection,
  lake: string,
  options: { needed?: (names: readonly string[]) => boolean } = {},
): Promise<{ views: LakeView[]; warnings: LakeWarning[] }> {
  const views: LakeView[] = [];
  const warnings: LakeWarning[] = [];
  for (const dataset of await discoverParquetDatasets(lake)) {
    const description =
      dataset.kind === 'view'
        ? `materialised view ${dataset.label} (ViewDefinition rows of current resources)`
        : `current state of table ${dataset.label}: the latest image per key, deletes applied`;
    // Not needed by the SQL about to run: listed, not created (binding reads every file's footer).
    if (options.needed && !options.needed([dataset.name])) {
      views.push({ name: dataset.name, description, sql: parquetViewSql(dataset) });
      continue;
    }
    let created = false;
    for (const legacyCurrent of dataset.kind === 'view' ? [false] : [false, true]) {
      const sql = parquetViewSql(dataset, { legacyCurrent });
      try {
        await connection.run(sql);
        await connection.run(`SELECT * FROM ${dataset.name} LIMIT 0`);
        views.push({ name: dataset.name, description, sql });
        created = true;
        break;
      } catch {
        await connection.run(`DROP VIEW IF EXISTS ${dataset.name}`).catch(() => undefined);
      }
    }
    if (created) continue;
    const readable: string[] = [];
    for (const file of dataset.files) {
      try {
        await connection.run(`SELECT count(*) FROM read_parquet(${quotePath(file)})`);
        readable.push(file);
      } catch (error) {
        warnings.push({
          subject: relative(lake, file),
          reason: `file left out of ${dataset.name}: ${safeReason(error)}`,
        });
      }
    }
    if (readable.length === 0) {
      warnings.push({ subject: dataset.name, reason: 'view left out: no readable file' });
      continue;
    }
    const sql = parquetViewSql({ ...dataset, files: readable });
    try {
      await connection.run(sql);
      views.push({ name: dataset.name, description, sql });
    } catch (error) {
      warnings.push({ subject: dataset.name, reason: `view left out: ${safeReason(error)}` });
    }
  }
  return { views, warnings };
}
