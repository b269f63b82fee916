export { updateViewsForRun, rebuildViews } from './update-views.js';
export { materialiseView, type MaterialiseViewInput } from './materialise-view.js';
export { DEFAULT_VIEW_FILES, loadViewFiles } from './load-views.js';
export { runTagOf, viewRunKey, runOfViewKey, EMPTY_RUN, BASE_SUFFIX, HIDDEN_VIEW_COLUMNS } from './layout.js';
export { VIEW_ROW_ERROR, writeViewErrors } from './view-errors.js';
export { lakeFilesOf, readLakeResources, versionKey, type LakeResource } from './lake-resources.js';
export type { ViewUpdate, ViewLakeOptions } from './types.js';
