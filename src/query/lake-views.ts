import { relative } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { safeReason } from './errors.js';
import { probeJson } from './lake-check.js';
import { discoverDatasets } from './lake-datasets.js';
import { createParquetViews } from './parquet-views.js';
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
export async function createLakeViews(connection: DuckDBConnection, lake: string): Promise<LakeViews> {
  const views: LakeView[] = [];
  const warnings: LakeWarning[] = [];
  for (const dataset of await discoverDatasets(lake)) {
    try {
      const { source, columns } = await readableSchema(connection, lake, dataset, warnings);
      for (const view of viewsFor(dataset, source, viewSchema(dataset.kind, columns))) {
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
  // Materialised views and current state (Parquet): `view_<name>`, `current_<table>`.
  const parquet = await createParquetViews(connection, lake);
  return { views: [...views, ...parquet.views], warnings: [...warnings, ...parquet.warnings] };
}

/**
 * Detects a dataset's columns over all its files; if that fails, probes the files one by one, leaves the
 * unreadable ones out (a warning each) and detects again over the rest. The common case costs one pass.
 */
async function readableSchema(
  connection: DuckDBConnection,
  lake: string,
  dataset: LakeDataset,
  warnings: LakeWarning[],
): Promise<{ source: string | null; columns: Column[] }> {
  // No files (events or errors not written yet): the view still exists, empty, with the fixed columns.
  if (dataset.files.length === 0) return { source: null, columns: [] };
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
    if (readable.length === 0) return { source: null, columns: [] };
    const source = fileSource(dataset.dir, readable);
    return { source, columns: await detect(connection, source) };
  }
}

async function detect(connection: DuckDBConnection, source: string): Promise<Column[]> {
  const reader = await connection.runAndReadAll(`SELECT * FROM ${detectingReader(source)} LIMIT 0`);
  const types = reader.columnTypes();
  return reader.columnNames().map((name, i) => [name, fromDuckDBType(types[i]!)]);
}
