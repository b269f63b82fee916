import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, vi } from 'vitest';
import { main } from '../../../src/cli/main.js';

/** The in-process CLI of one test: a fresh temporary `root`, and what the CLI wrote to stdout and stderr. */
export interface InProcessCli {
  root: string;
  stdout: string;
  stderr: string;
  /** Runs the CLI in-process; stdout and stderr are captured. */
  run(...args: string[]): Promise<number>;
}

/**
 * Registers the hooks that give each test of the file a fresh temporary directory (prefix `prefix`) and capture the
 * CLI's stdout and stderr; afterwards the directory is removed, the mocks restored and `process.exitCode` cleared.
 *
 * @example
 * const cli = inProcessCli('view-run-');
 * it('…', async () => expect(await cli.run('runs', '--dir', cli.root)).toBe(EXIT.ok));
 */
export function inProcessCli(prefix: string): InProcessCli {
  const cli: InProcessCli = {
    root: '',
    stdout: '',
    stderr: '',
    run: (...args) => main(['node', 'tributary', ...args]),
  };
  beforeEach(() => {
    cli.root = mkdtempSync(join(tmpdir(), prefix));
    cli.stderr = '';
    cli.stdout = '';
    vi.spyOn(process.stderr, 'write').mockImplementation((text) => ((cli.stderr += String(text)), true));
    vi.spyOn(process.stdout, 'write').mockImplementation((text) => ((cli.stdout += String(text)), true));
  });
  afterEach(() => {
    vi.restoreAllMocks();
    process.exitCode = undefined;
    rmSync(cli.root, { recursive: true, force: true });
  });
  return cli;
}
