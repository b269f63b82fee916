/**
 * Deterministic crash points for crash tests: a test starts a process with `TRIBUTARY_FAULTS=<point>[,<point>…]`
 * and the process kills itself with SIGKILL when it reaches a named point, exactly as `kill -9` would, but at a
 * known place instead of after a sleep. `<point>@<n>` fires on the n-th time the point is reached (1-based).
 * Unset in normal use; reading it costs one lookup per call.
 */
const counts = new Map<string, number>();

function armed(point: string): boolean {
  const spec = process.env.TRIBUTARY_FAULTS;
  if (!spec) return false;
  for (const entry of spec.split(',')) {
    const [name, nth] = entry.trim().split('@');
    if (name !== point) continue;
    const seen = (counts.get(point) ?? 0) + 1;
    counts.set(point, seen);
    return nth === undefined || Number(nth) === seen;
  }
  return false;
}

/**
 * Kills this process with SIGKILL if the fault point is armed in `TRIBUTARY_FAULTS`.
 *
 * @example
 * await forwardWrite();
 * crashPoint('dynamodb.after-write'); // TRIBUTARY_FAULTS=dynamodb.after-write kills the process here
 * appendStreamRecord();
 */
export function crashPoint(point: string): void {
  if (armed(point)) {
    process.stderr.write(`tributary: fault hook ${point}: killing process ${process.pid}\n`);
    process.kill(process.pid, 'SIGKILL');
  }
}
