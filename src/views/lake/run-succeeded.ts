import type { RunRecord } from '../../fhir-export/types.js';
import type { ObjectStore } from '../../ports/object-store.js';
import type { CompiledView } from '../types.js';
import type { ViewUpdate } from './types.js';
import { updateViewsForRun } from './update-views.js';

/** What the views writer did for one status-change event: counts and names only. */
export interface RunViewsResult {
  runId?: string;
  /** Why no view was updated (the event is not a SUCCEEDED execution, the run is unknown or did not complete). */
  skipped?: string;
  status?: string;
  updates: ViewUpdate[];
}

/** Dependencies of {@link updateViewsOnRunSucceeded}. */
export interface RunViewsDeps {
  /** Reads a run from the ledger (`RunLedger.getRun`). */
  getRun(runId: string): Promise<RunRecord | undefined>;
  /** The lake. */
  store: ObjectStore;
  views: readonly CompiledView[];
  /** Local scratch directory (Lambda: /tmp). */
  scratchDir?: string;
  /** Called with counts only (never values). */
  log?: (message: string, fields: Record<string, unknown>) => void;
}

const COMPLETED = new Set(['COMPLETED', 'COMPLETED_WITH_ERRORS']);

/**
 * The AWS views writer: an EventBridge "Step Functions Execution Status Change" event of the export state machine.
 * The run is the execution's name (run-ledger's runId); a SUCCEEDED execution whose run the ledger records as
 * COMPLETED or COMPLETED_WITH_ERRORS gets {@link updateViewsForRun} (one delta per view); anything else changes
 * nothing. A replay writes the same objects again.
 *
 * @example
 * await updateViewsOnRunSucceeded(event, { getRun: (id) => ledger.getRun(id), store: lake, views });
 */
export async function updateViewsOnRunSucceeded(event: unknown, deps: RunViewsDeps): Promise<RunViewsResult> {
  const detail = (event as { detail?: { name?: unknown; status?: unknown } } | undefined)?.detail;
  const runId = typeof detail?.name === 'string' ? detail.name : undefined;
  if (!runId) return { skipped: 'not an execution status change', updates: [] };
  if (detail?.status !== 'SUCCEEDED') return { runId, skipped: `execution ${String(detail?.status)}`, updates: [] };
  const run = await deps.getRun(runId);
  if (!run) return { runId, skipped: 'no such run in the ledger', updates: [] };
  if (!COMPLETED.has(run.status) || !run.transactionTime)
    return { runId, status: run.status, skipped: `run ${run.status}`, updates: [] };
  const updates = await updateViewsForRun(
    {
      store: deps.store,
      views: deps.views,
      ...(deps.scratchDir ? { scratchDir: deps.scratchDir } : {}),
    },
    { transactionTime: run.transactionTime },
  );
  for (const update of updates)
    deps.log?.('view updated', {
      runId,
      view: update.view,
      rows: update.rows,
      keys: update.keys,
      deleted: update.deleted,
      errors: update.errors,
      ...(update.skipped ? { skipped: update.skipped } : {}),
    });
  return { runId, status: run.status, updates };
}
