/**
 * Which export a backfill/repair runs: a FULL snapshot at a whole second, or an INCREMENTAL window that DynamoDB
 * accepts (at least 15 minutes, at most 24 hours, inside the point-in-time recovery window).
 */
import { snapshotExportTime } from './export-time.js';

/** DynamoDB's bounds on an incremental export's window. */
export interface IncrementalWindowLimits {
  /** Shortest window DynamoDB accepts. Default 15 minutes. */
  minMs: number;
  /** Longest window DynamoDB accepts. Default 24 hours. */
  maxMs: number;
}

/** DynamoDB's documented incremental export bounds: 15 minutes to 24 hours. */
export const INCREMENTAL_WINDOW_LIMITS: Readonly<IncrementalWindowLimits> = {
  minMs: 15 * 60_000,
  maxMs: 24 * 60 * 60_000,
};

/** Point-in-time recovery of the table, from `DescribeContinuousBackups`. */
export interface PitrWindow {
  enabled: boolean;
  earliestMs?: number | undefined;
  latestMs?: number | undefined;
}

/** The export to start; times are ISO-8601 at whole seconds. `next` is the rest of a window over 24 hours. */
export type PlannedExport =
  | { exportType: 'FULL_EXPORT'; exportTime: string }
  | {
      exportType: 'INCREMENTAL_EXPORT';
      exportFromTime: string;
      exportToTime: string;
      /** True when the requested window was shorter than the minimum and its start was moved back. */
      widened: boolean;
      next?: { exportFromTime: string; exportToTime: string };
    };

/** The export cannot be started as asked (the name is the ASL error). */
export class ExportWindowError extends Error {
  public constructor(
    public override readonly name: 'Backfill.PitrDisabled' | 'Backfill.PitrNotReady' | 'Backfill.WindowUnavailable',
    message: string,
  ) {
    super(message);
  }
}

const floorSecond = (ms: number): number => Math.floor(ms / 1000) * 1000;
const ceilSecond = (ms: number): number => Math.ceil(ms / 1000) * 1000;
const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * Plans the export of a backfill (FULL) or repair (INCREMENTAL).
 *
 * - FULL: `ExportTime` is the last whole second at or before now (and the latest restorable time); the current-state
 *   ordering relies on a whole second. Before point-in-time recovery has one second of history: `Backfill.PitrNotReady`
 *   (retry shortly).
 * - INCREMENTAL: the window `[from, to)` with `to` defaulting to (and capped at) the latest restorable time. A window
 *   shorter than `limits.minMs` has its start moved back (records are ordered by source time, so landing older changes
 *   again is harmless); one longer than `limits.maxMs` is cut at `from + maxMs` and the rest returned as `next`, which
 *   the workflow exports after this one. A start before the earliest restorable time cannot be exported
 *   (`Backfill.WindowUnavailable`: run a FULL backfill instead).
 *
 * @example
 * planExport({ mode: 'FULL', nowMs: Date.parse('2024-03-01T10:00:05.750Z'), pitr: { enabled: true, earliestMs: 0 } })
 * // { exportType: 'FULL_EXPORT', exportTime: '2024-03-01T10:00:05.000Z' }
 */
export function planExport(options: {
  mode: 'FULL' | 'INCREMENTAL';
  nowMs: number;
  pitr: PitrWindow;
  fromMs?: number | undefined;
  toMs?: number | undefined;
  limits?: IncrementalWindowLimits | undefined;
}): PlannedExport {
  const { mode, nowMs, pitr } = options;
  const limits = options.limits ?? INCREMENTAL_WINDOW_LIMITS;
  if (!pitr.enabled)
    throw new ExportWindowError(
      'Backfill.PitrDisabled',
      'point-in-time recovery is not enabled on the table; exports need it',
    );
  const earliestMs = pitr.earliestMs ?? 0;
  const latestMs = Math.min(nowMs, pitr.latestMs ?? nowMs);
  if (mode === 'FULL') {
    const time = snapshotExportTime(latestMs, earliestMs);
    if (time === undefined)
      throw new ExportWindowError(
        'Backfill.PitrNotReady',
        'point-in-time recovery has less than one second of history',
      );
    return { exportType: 'FULL_EXPORT', exportTime: time.toISOString() };
  }
  if (options.fromMs === undefined)
    throw new ExportWindowError('Backfill.WindowUnavailable', 'an INCREMENTAL export needs exportFromTime');
  let from = floorSecond(options.fromMs);
  const to = floorSecond(Math.min(options.toMs ?? latestMs, latestMs));
  const earliest = ceilSecond(earliestMs);
  if (from < earliest)
    throw new ExportWindowError(
      'Backfill.WindowUnavailable',
      `exportFromTime ${iso(from)} is before the earliest restorable time ${iso(earliest)}; run a FULL backfill`,
    );
  if (from >= to)
    throw new ExportWindowError(
      'Backfill.WindowUnavailable',
      `exportFromTime ${iso(from)} is not before exportToTime ${iso(to)} (capped at the latest restorable time)`,
    );
  let widened = false;
  if (to - from < limits.minMs) {
    from = to - limits.minMs;
    widened = true;
    if (from < earliest)
      throw new ExportWindowError(
        'Backfill.WindowUnavailable',
        `an incremental export spans at least ${limits.minMs / 60_000} minutes, and point-in-time recovery does not reach back to ${iso(from)}; retry later or run a FULL backfill`,
      );
  }
  if (to - from > limits.maxMs) {
    const cut = from + limits.maxMs;
    return {
      exportType: 'INCREMENTAL_EXPORT',
      exportFromTime: iso(from),
      exportToTime: iso(cut),
      widened,
      next: { exportFromTime: iso(cut), exportToTime: iso(to) },
    };
  }
  return { exportType: 'INCREMENTAL_EXPORT', exportFromTime: iso(from), exportToTime: iso(to), widened };
}
