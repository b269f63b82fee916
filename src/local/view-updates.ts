import type { RunRecord } from '../fhir-export/types.js';
import type { ObjectStore } from '../ports/object-store.js';
import { loadViewFiles, DEFAULT_VIEW_FILES } from '../views/lake/load-views.js';
import type { ViewUpdate } from '../views/lake/types.js';
import { updateViewsForRun } from '../views/lake/update-views.js';
import type { ExportProgress } from './export-runtime/index.js';

/** The progress event type of one view's incremental update; `detail` is a {@link ViewUpdate} (counts only). */
export const VIEW_UPDATED = 'ViewUpdated';

/**
 * One line about a view update (names and counts only).
 *
 * @example
 * describeViewUpdate({ view: 'patient', run: '20240301T100000.000Z', keys: 3, deleted: 1, rows: 2, errors: 0, resources: 3, unreadable: 0 })
 * // 'view patient: run 20240301T100000.000Z: 3 keys (1 deleted), 2 rows, 0 errors'
 */
export function describeViewUpdate(update: ViewUpdate): string {
  if (update.skipped) return `view ${update.view}: unchanged (${update.skipped})`;
  const errors = update.errors > 0 ? ` (see _errors/views/${update.view}/)` : '';
  return `view ${update.view}: run ${update.run}: ${update.keys} keys (${update.deleted} deleted), ${update.rows} rows, ${update.errors} errors${errors}`;
}

/**
 * The local export runtime's completed-run hook: updates each configured view with the run's delta and reports one
 * {@link VIEW_UPDATED} progress event per view. Undefined when no views are configured.
 *
 * @example
 * createLocalExportRuntime({ …, onRunCompleted: viewUpdateHook(lake, config.views) });
 */
export function viewUpdateHook(
  lake: ObjectStore,
  files: readonly string[] = DEFAULT_VIEW_FILES,
): ((run: RunRecord, progress: (progress: ExportProgress) => void) => Promise<void>) | undefined {
  if (files.length === 0) return undefined;
  const views = loadViewFiles(files);
  return async (run, progress) => {
    const updates = await updateViewsForRun({ store: lake, views }, { transactionTime: run.transactionTime! });
    for (const update of updates)
      progress({ runId: run.runId, type: VIEW_UPDATED, detail: update as unknown as Record<string, unknown> });
  };
}
