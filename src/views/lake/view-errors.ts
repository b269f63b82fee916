import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { datePartitions, hivePath, lakeLayout } from '../../lake/layout.js';
import type { ObjectStore } from '../../ports/object-store.js';
import type { RowError } from '../types.js';

/** The error type of a resource a view could not turn into rows, in `_errors/views/<view>/` and the `errors` view. */
export const VIEW_ROW_ERROR = 'ViewRowError';

/**
 * Writes the row-level errors of one view file to `_errors/views/<view>/year=/month=/day=/<run>-<hash>.ndjson.gz`,
 * one line per resource: `{reason, errorType: 'ViewRowError', eventId: '<view>:<Type/id>', record: {view,
 * resourceKey, column, run}}`. No values of the resource are copied (they are in the lake already). The date
 * partition is the run's, and the name derives from the run and the errors, so a replay overwrites the same file.
 *
 * @example
 * await writeViewErrors(store, 'patient', '20240301T100000.000Z', errors);
 */
export async function writeViewErrors(
  store: ObjectStore,
  view: string,
  run: string,
  errors: readonly RowError[],
): Promise<string | undefined> {
  if (errors.length === 0) return undefined;
  const lines = errors.map((error) =>
    JSON.stringify({
      reason: error.column ? `column ${error.column}: ${error.reason}` : error.reason,
      errorType: VIEW_ROW_ERROR,
      eventId: `${view}:${error.resourceKey}`,
      record: { view, resourceKey: error.resourceKey, column: error.column ?? null, run },
    }),
  );
  const text = `${lines.join('\n')}\n`;
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 12);
  const at = runInstant(run);
  const key = `${lakeLayout.errors('views')}${lakeLayout.views(view).slice('views/'.length)}${hivePath(datePartitions(at))}${run.replace(/[^A-Za-z0-9._-]/g, '_')}-${hash}.ndjson.gz`;
  await store.put(key, gzipSync(text), { contentType: 'application/x-ndjson' });
  return key;
}

/** The instant of a run tag (`YYYYMMDDTHHMMSS.mmmZ`, maybe with `~base`); the epoch for the empty run. */
function runInstant(run: string): Date {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})\.(\d{3})Z/.exec(run);
  if (!match || match[1] === '0000') return new Date(0);
  const [, y, mo, d, h, mi, s, ms] = match;
  return new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}.${ms}Z`);
}
