import { lakeLayout } from '../../lake/layout.js';

/**
 * The run tag of a lake with no export yet: what an empty rebuild is tagged with (sorts before any real run).
 */
export const EMPTY_RUN = '00000000T000000.000Z';

/** Suffix of a base's run tag: `<run>~base` sorts after every delta of `<run>` and before any later run. */
export const BASE_SUFFIX = '~base';

/**
 * Hidden columns of every view file, after the view's own columns: `_resource_key` (`Type/id`), `_run` (the run tag),
 * `_marker` (true on the one row per resource that says "this run decided this key", with every view column NULL),
 * `_deleted` (the resource was deleted: its marker is its only row) and `_base` (the file is a base: rows of older
 * runs do not count).
 */
export const HIDDEN_VIEW_COLUMNS = ['_resource_key', '_run', '_marker', '_deleted', '_base'] as const;

/**
 * The run tag of an export: its transactionTime as the lake's file-name prefix (`YYYYMMDDTHHMMSS.mmmZ`), so tags sort
 * in export order as text.
 *
 * @example
 * runTagOf('2024-03-01T10:00:00.000Z') // '20240301T100000.000Z'
 */
export function runTagOf(transactionTime: string): string {
  const at = new Date(transactionTime);
  if (Number.isNaN(at.getTime())) throw new Error('transactionTime is not an instant');
  return at.toISOString().replace(/[-:]/g, '');
}

/**
 * The one Parquet object of a view's run (a delta, or a base when `run` ends with `~base`):
 * `views/<view>/run=<run>/<view>.parquet`. The same run always gets the same key, so a replay overwrites.
 *
 * @example
 * viewRunKey('patient', '20240301T100000.000Z') // 'views/patient/run=20240301T100000.000Z/patient.parquet'
 */
export function viewRunKey(view: string, run: string): string {
  return `${lakeLayout.views(view)}run=${run}/${view}.parquet`;
}

/**
 * The run tag of a view object key, or undefined when the key is not a view run file.
 *
 * @example
 * runOfViewKey('views/patient/run=20240301T100000.000Z~base/patient.parquet') // '20240301T100000.000Z~base'
 */
export function runOfViewKey(key: string): string | undefined {
  return /\/run=([^/]+)\/[^/]+\.parquet$/.exec(key)?.[1];
}

/**
 * The export run tag a lake FHIR file belongs to, from its name (`<YYYYMMDDTHHMMSS.mmmZ>_<jobId>_…`); '' for
 * older names without one.
 *
 * @example
 * runOfLakeFile('fhir/Patient/year=2024/month=03/day=01/20240301T100000.000Z_j1_Patient_ab-0000.ndjson.gz') // '20240301T100000.000Z'
 */
export function runOfLakeFile(key: string): string {
  return /^(\d{8}T\d{6}\.\d{3}Z)_/.exec(key.slice(key.lastIndexOf('/') + 1))?.[1] ?? '';
}
