import { describe, expect, it } from 'vitest';
import { ThrottledFailures } from '../../../src/cli/throttled-failures.js';

describe('ThrottledFailures', () => {
  it('logs a repeating failure once when it starts, once per interval, and once when it recovers', () => {
    const lines: string[] = [];
    let now = 0;
    const failures = new ThrottledFailures(
      (line) => lines.push(line),
      60_000,
      () => now,
    );
    for (let second = 0; second < 125; second++) {
      now = second * 1000;
      failures.failed('pipe visits-pipe', 'ENOSPC');
    }
    failures.succeeded('pipe visits-pipe');
    failures.succeeded('pipe visits-pipe');
    expect(lines).toEqual([
      'pipe visits-pipe: ENOSPC; nothing is committed or lost, retrying (next report in 60 s)',
      'pipe visits-pipe: still failing (ENOSPC), 61 attempts in 60 s',
      'pipe visits-pipe: still failing (ENOSPC), 121 attempts in 120 s',
      'pipe visits-pipe: recovered after 125 failed attempts',
    ]);
  });

  it('a new reason is reported at once', () => {
    const lines: string[] = [];
    const failures = new ThrottledFailures(
      (line) => lines.push(line),
      60_000,
      () => 0,
    );
    failures.failed('pipe p', 'ENOSPC');
    failures.failed('pipe p', 'EACCES');
    expect(lines[1]).toBe('pipe p: still failing (EACCES), 2 attempts in 0 s');
  });
});
