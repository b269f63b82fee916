import { RowEvaluationError } from './errors.js';
import type { CompiledView, Row, RowError } from './types.js';

/** Options of {@link runView}. */
export interface RunViewOptions {
  /**
   * Called for each resource the view cannot turn into rows; the run goes on. The lake sends these to
   * `_errors/views/<view>/`, `view run` to stderr.
   */
  onRowError(error: RowError): void;
}

/**
 * `Type/id` of a resource, for error reports; `Type/?` when it has no id.
 *
 * @example
 * resourceKey({ resourceType: 'Patient', id: 'p1' }) // 'Patient/p1'
 */
export function resourceKey(resource: unknown): string {
  const { resourceType, id } = (resource ?? {}) as { resourceType?: unknown; id?: unknown };
  return `${typeof resourceType === 'string' ? resourceType : '?'}/${typeof id === 'string' ? id : '?'}`;
}

/**
 * Streams a view over resources, one resource at a time: rows come out as each resource is read, so memory
 * stays flat however long the input. A resource that fails goes to `onRowError` and yields no rows.
 *
 * @example
 * for await (const row of runView(view, readNdjson('Patient.ndjson.gz'), { onRowError: console.error })) write(row);
 */
export async function* runView(
  view: CompiledView,
  resources: AsyncIterable<unknown> | Iterable<unknown>,
  options: RunViewOptions,
): AsyncGenerator<Row> {
  for await (const resource of resources) {
    const rows = rowsOrError(view, resource, options);
    for (const row of rows) yield row;
  }
}

/**
 * The rows of one resource, or none with the error reported: the per-resource step of {@link runView}, for
 * callers that batch (the lake materialiser).
 *
 * @example
 * const rows = rowsOrError(view, resource, { onRowError: (e) => errors.push(e) });
 */
export function rowsOrError(view: CompiledView, resource: unknown, options: RunViewOptions): Row[] {
  try {
    return view.rows(resource);
  } catch (error) {
    if (!(error instanceof RowEvaluationError)) throw error;
    options.onRowError({
      view: view.name,
      resourceKey: resourceKey(resource),
      column: error.column,
      reason: error.reason,
    });
    return [];
  }
}
