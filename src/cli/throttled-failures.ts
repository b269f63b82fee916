/**
 * Reports a repeating failure (a pipe whose flush fails every poll while the disk is full) as one line when it starts,
 * at most one line per interval while it lasts, and one line when it recovers, instead of one line per attempt.
 *
 * @example
 * const failures = new ThrottledFailures((line) => process.stderr.write(`${line}\n`));
 * try { await pipe.poll(); failures.succeeded('visits-pipe'); } catch (e) { failures.failed('visits-pipe', 'ENOSPC'); }
 */
export class ThrottledFailures {
  private readonly failing = new Map<string, { since: number; lastLog: number; attempts: number; reason: string }>();

  public constructor(
    private readonly write: (line: string) => void,
    private readonly intervalMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** One more failed attempt of `key`, for a short, value-free `reason`. */
  public failed(key: string, reason: string): void {
    const now = this.now();
    const state = this.failing.get(key);
    if (!state) {
      this.failing.set(key, { since: now, lastLog: now, attempts: 1, reason });
      this.write(
        `${key}: ${reason}; nothing is committed or lost, retrying (next report in ${this.intervalMs / 1000} s)`,
      );
      return;
    }
    state.attempts += 1;
    if (now - state.lastLog < this.intervalMs && reason === state.reason) return;
    state.lastLog = now;
    state.reason = reason;
    const seconds = Math.round((now - state.since) / 1000);
    this.write(`${key}: still failing (${reason}), ${state.attempts} attempts in ${seconds} s`);
  }

  /** An attempt of `key` succeeded: reports recovery if it was failing. */
  public succeeded(key: string): void {
    const state = this.failing.get(key);
    if (!state) return;
    this.failing.delete(key);
    this.write(`${key}: recovered after ${state.attempts} failed attempts`);
  }
}
