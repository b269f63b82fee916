import { join, relative } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { safeReason } from './errors.js';
import { probeJson } from './lake-check.js';
import { discoverDatasets } from './lake-datasets.js';
import { createParquetViews } from './parquet-views.js';
import { addsNothing, compareListing, fileStamps, SchemaCache } from './schema-cache.js';
import { fromDuckDBType } from './sql-type.js';
import type { Column, LakeDataset, LakeView, LakeWarning } from './types.js';
import { detectingReader, fileSource, viewSchema, viewsFor } from './view-sql.js';

export { viewIdentifier } from './lake-datasets.js';
export type { LakeView } from './types.js';

/** The views that could be created, and what was left out. */
export interface LakeViews {
  views: LakeView[];
  warnings: LakeWarning[];
}

/** Options of {@link createLakeViews}. */
export interface LakeViewOptions {
  /**
   * The SQL about to run: only the views it names (as words, any case) are created; the others are still listed, and
   * files left out of them still warned about. Without it, every view is created (and checked).
   */
  sql?: string;
}

const CATALOG_SQL = /\b(show|describe|summarize|pragma|information_schema|duckdb_[a-z_]+|sqlite_master|pg_catalog)\b/i;

/**
 * Whether a dataset's views are needed by some SQL: `undefined` SQL needs them all.
 *
 * @example
 * viewsNamedIn('select * from FHIR_patient')(['fhir_patient_history', 'fhir_patient']) // true
 */
export function viewsNamedIn(sql: string | undefined): (names: readonly string[]) => boolean {
  // Catalog queries (`SHOW TABLES`, information_schema, duckdb_views(), …) name no view but list them all.
  if (sql === undefined || CATALOG_SQL.test(sql)) return () => true;
  const words = new Set(sql.toLowerCase().match(/[a-z0-9_]+/g) ?? []);
  return (names) => names.some((name) => words.has(name.toLowerCase()));
}

/**
 * Creates the lake's views on a DuckDB connection: `changes_<table>`, `fhir_<type>` (latest version,
 * tombstones removed) and `fhir_<type>_history`, `events` and `errors` (these two always, empty without files),
 * and over Parquet `view_<name>` (materialised ViewDefinitions) and `current_<table>` (see `createParquetViews`).
 *
 * Each dataset's schema is detected once and then fixed ({@link viewSchema}), so views bind on resources
 * without `meta`, tombstone-only types and missing columns. An unreadable file is left out of its view, and a
 * view that still fails is left out; both come back as warnings, and the other views work.
 *
 * @example
 * const { views, warnings } = await createLakeViews(connection, '.tributary/lake');
 */
export async function createLakeViews(
  connection: DuckDBConnection,
  lake: string,
  options: LakeViewOptions = {},
): Promise<LakeViews> {
  const views: LakeView[] = [];
  const warnings: LakeWarning[] = [];
  const needed = viewsNamedIn(options.sql);
  const cache = SchemaCache.load(lake);
  const datasets = await discoverDatasets(lake);
  cache.retain(new Set(datasets.filter((d) => d.files.length > 0).map((d) => relative(lake, d.dir))));
  for (const dataset of datasets) {
    try {
      const { source, columns } = await readableSchema(connection, lake, dataset, warnings, cache);
      const planned = viewsFor(dataset, source, viewSchema(dataset.kind, columns));
      if (!needed(planned.map((view) => view.name))) {
        views.push(...planned);
        continue;
      }
      for (const view of planned) {
        try {
          await connection.run(view.sql);
          views.push(view);
        } catch (error) {
          warnings.push({ subject: view.name, reason: `view left out: ${safeReason(error)}` });
        }
      }
    } catch (error) {
      warnings.push({ subject: dataset.name, reason: `view left out: ${safeReason(error)}` });
    }
  }
  cache.save();
  // Materialised views and current state (Parquet): `view_<name>`, `current_<table>`.
  const parquet = await createParquetViews(connection, lake, { needed });
  return { views: [...views, ...parquet.views], warnings: [...warnings, ...parquet.warnings] };
}

/**
 * Detects a dataset's columns over all its files; if that fails, probes the files one by one, leaves the
 * unreadable ones out (a warning each) and detects again over the rest. The common case costs one pass, and none when
 * the schema cache holds the dataset's exact listing; when files were only added, detection reads just those, and
 * keeps the cached columns if they add nothing (else detects over everything again).
 */
async function readableSchema(
  connection: DuckDBConnection,
  lake: string,
  dataset: LakeDataset,
  warnings: LakeWarning[],
  cache: SchemaCache,
): Promise<{ source: string | null; columns: Column[] }> {
  // No files (events or errors not written yet): the view still exists, empty, with the fixed columns.
  if (dataset.files.length === 0) return { source: null, columns: [] };
  const key = relative(lake, dataset.dir);
  const stamps = fileStamps(lake, dataset.files);
  const cached = cache.get(key);
  const change = cached ? compareListing(cached.files, stamps) : { kind: 'changed' as const };
  if (cached && change.kind === 'same') {
    warnings.push(...cached.warnings);
    const source = cached.readable
      ? fileSource(
          dataset.dir,
          cached.readable.map((file) => join(lake, file)),
        )
      : fileSource(dataset.dir);
    return { source: cached.readable?.length === 0 ? null : source, columns: cached.columns };
  }
  if (cached && change.kind === 'added' && cached.readable === null) {
    try {
      const added = await detect(
        connection,
        fileSource(
          dataset.dir,
          change.added.map((file) => join(lake, file)),
        ),
      );
      if (addsNothing(added, cached.columns)) {
        cache.set(key, { ...cached, files: stamps });
        return { source: fileSource(dataset.dir), columns: cached.columns };
      }
    } catch {
      // An added file is unreadable: find out which, below.
    }
  }
  const found: LakeWarning[] = [];
  const result = await detectReadable(connection, lake, dataset, found);
  warnings.push(...found);
  cache.set(key, {
    files: stamps,
    columns: result.columns,
    readable: result.readable?.map((file) => relative(lake, file)) ?? null,
    warnings: found,
  });
  return { source: result.source, columns: result.columns };
}

/** Detection over every file, else over the readable ones (see {@link readableSchema}). */
async function detectReadable(
  connection: DuckDBConnection,
  lake: string,
  dataset: LakeDataset,
  warnings: LakeWarning[],
): Promise<{ source: string | null; columns: Column[]; readable?: string[] }> {
  try {
    const source = fileSource(dataset.dir);
    return { source, columns: await detect(connection, source) };
  } catch {
    const readable: string[] = [];
    for (const file of dataset.files) {
      const reason = await probeJson(connection, file);
      if (reason === undefined) readable.push(file);
      else warnings.push({ subject: relative(lake, file), reason: `file left out of ${dataset.name}: ${reason}` });
    }
    if (readable.length === 0) return { source: null, columns: [], readable };
    const source = fileSource(dataset.dir, readable);
    return { source, columns: await detect(connection, source), readable };
  }
}

async function detect(connection: DuckDBConnection, source: string): Promise<Column[]> {
  const reader = await connection.runAndReadAll(`SELECT * FROM ${detectingReader(source)} LIMIT 0`);
  const types = reader.columnTypes();
  return reader.columnNames().map((name, i) => [name, fromDuckDBType(types[i]!)]);
}
