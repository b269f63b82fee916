/**
 * The `ExportTime` of a snapshot (a FULL export): the last whole second at or before `nowMs`. Stream record times are
 * whole seconds (rounded down), and the current state lets a stream record win over a snapshot read at the same time;
 * with the snapshot at a whole second at or before its read, a stream record stamped earlier than it is always of a
 * write the snapshot saw. Returns undefined when that second is before `earliestRestorableMs` (point-in-time recovery
 * enabled within the last second): wait and ask again.
 *
 * @example
 * snapshotExportTime(Date.parse('2024-03-01T10:00:05.750Z')) // Date 2024-03-01T10:00:05.000Z
 */
export function snapshotExportTime(nowMs: number, earliestRestorableMs = 0): Date | undefined {
  const second = Math.floor(nowMs / 1000) * 1000;
  return second < earliestRestorableMs ? undefined : new Date(second);
}
