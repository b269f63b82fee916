import { lakeLayout } from '../../lake/layout.js';
import type { ObjectStore } from '../../ports/object-store.js';
import type { CompiledView } from '../types.js';
import { BASE_SUFFIX, EMPTY_RUN, runOfLakeFile, runOfViewKey, runTagOf } from './layout.js';
import { lakeFilesOf } from './lake-resources.js';
import { materialiseView, type MaterialiseViewInput } from './materialise-view.js';
import type { ViewLakeOptions, ViewUpdate } from './types.js';

const empty = (view: CompiledView, skipped: string): ViewUpdate => ({
  view: view.name,
  resources: 0,
  keys: 0,
  deleted: 0,
  rows: 0,
  errors: 0,
  unreadable: 0,
  skipped,
});

/** The input of {@link materialiseView} for one view and run, with the lake options' scratch dir and row-error hook. */
const materialiseOptions = (
  options: ViewLakeOptions,
  view: CompiledView,
  files: readonly string[],
  run: string,
): MaterialiseViewInput => ({
  store: options.store,
  view,
  files,
  run,
  ...(options.scratchDir ? { scratchDir: options.scratchDir } : {}),
  ...(options.onRowError ? { onRowError: options.onRowError } : {}),
});

/** The run tags of a view's objects (deltas and bases), sorted. */
async function viewRuns(store: ObjectStore, view: string): Promise<Array<{ key: string; run: string }>> {
  const out: Array<{ key: string; run: string }> = [];
  for await (const { key } of store.list(lakeLayout.views(view))) {
    const run = runOfViewKey(key);
    if (run !== undefined) out.push({ key, run });
  }
  return out.sort((a, b) => (a.run < b.run ? -1 : a.run > b.run ? 1 : 0));
}

/**
 * Updates every view for one completed export run (merge-on-read): each view gets one delta,
 * `views/<view>/run=<run>/<view>.parquet`, holding the rows of the resources the run changed and a marker per
 * changed or deleted key; queries keep, per key, only its latest run. Costs O(what the run changed). A replay of the
 * same run writes the same object again (idempotent); a run no newer than the view's base is skipped.
 *
 * @example
 * const updates = await updateViewsForRun({ store: lake, views }, { transactionTime: run.transactionTime });
 */
export async function updateViewsForRun(
  options: ViewLakeOptions,
  run: { transactionTime: string },
): Promise<ViewUpdate[]> {
  const tag = runTagOf(run.transactionTime);
  const updates: ViewUpdate[] = [];
  for (const view of options.views) {
    const files = await lakeFilesOf(options.store, view.resource, tag);
    if (files.length === 0) {
      updates.push(empty(view, `no ${view.resource} files in this run`));
      continue;
    }
    const base = (await viewRuns(options.store, view.name)).filter((r) => r.run.endsWith(BASE_SUFFIX)).pop();
    if (base && base.run >= tag) {
      updates.push(empty(view, `run ${tag} is already in the base ${base.run}`));
      continue;
    }
    updates.push(await materialiseView(materialiseOptions(options, view, files, tag)));
  }
  return updates;
}

/**
 * Rebuilds views from the whole lake: one base per view, `views/<view>/run=<latest run>~base/<view>.parquet`, with the
 * current rows of every resource; once it is written (one atomic put), every older delta and base of the view is
 * deleted (queries already ignore them). An empty lake gives an empty base, so `view_<name>` exists.
 *
 * @example
 * await rebuildViews({ store: lake, views: views.filter((v) => v.name === 'patient') });
 */
export async function rebuildViews(options: ViewLakeOptions): Promise<ViewUpdate[]> {
  const updates: ViewUpdate[] = [];
  for (const view of options.views) {
    const files = await lakeFilesOf(options.store, view.resource);
    const latest = files.map(runOfLakeFile).reduce((max, run) => (run > max ? run : max), EMPTY_RUN);
    const tag = `${latest}${BASE_SUFFIX}`;
    const update = await materialiseView(materialiseOptions(options, view, files, tag));
    for (const old of await viewRuns(options.store, view.name)) if (old.run < tag) await options.store.delete(old.key);
    updates.push(update);
  }
  return updates;
}
