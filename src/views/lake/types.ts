import type { ObjectStore } from '../../ports/object-store.js';
import type { CompiledView, RowError } from '../types.js';

/** What materialising one view for one run (or a rebuild) did: counts only, no values. */
export interface ViewUpdate {
  view: string;
  /** The run tag written (`<run>` or `<run>~base`); absent when nothing was written. */
  run?: string;
  /** The object written, `views/<view>/run=<run>/<view>.parquet`. */
  key?: string;
  /** Resource lines read (every version, tombstones included). */
  resources: number;
  /** Keys decided by this file: changed, created or deleted resources. */
  keys: number;
  /** Of those, deleted. */
  deleted: number;
  /** View rows written. */
  rows: number;
  /** Resources that could not be turned into rows (they went to `_errors/views/<view>/`). */
  errors: number;
  /** Lines that were not JSON objects (left out). */
  unreadable: number;
  /** Why nothing was written, when nothing was (`no files of Patient in this run`, `older than the base`). */
  skipped?: string;
}

/** Options shared by incremental updates and rebuilds. */
export interface ViewLakeOptions {
  /** The lake. */
  store: ObjectStore;
  views: readonly CompiledView[];
  /** Local scratch directory for staging and Parquet files (default the OS temp dir). */
  scratchDir?: string;
  /** Called for each resource a view cannot turn into rows, after it was written to `_errors/views/<view>/`. */
  onRowError?: (error: RowError) => void;
}
