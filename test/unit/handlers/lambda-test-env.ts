import { vi } from 'vitest';

/** Environment every handler test starts from: a region, dummy credentials and quiet Powertools. */
export const LAMBDA_TEST_ENV = {
  AWS_REGION: 'eu-west-2',
  AWS_ACCESS_KEY_ID: 'x',
  AWS_SECRET_ACCESS_KEY: 'x',
  POWERTOOLS_TRACE_ENABLED: 'false',
  POWERTOOLS_METRICS_DISABLED: 'true',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
} as const;

/**
 * Stubs the Lambda environment and imports a handler module fresh (handlers read their environment at load).
 *
 * @example
 * const { handler } = await loadWithEnv({ LEDGER_TABLE: 'ledger' }, () => import('../../../src/handlers/run-ledger.js'));
 */
export async function loadWithEnv<T>(env: Record<string, string>, load: () => Promise<T>): Promise<T> {
  vi.resetModules();
  for (const [key, value] of Object.entries({ ...LAMBDA_TEST_ENV, ...env })) vi.stubEnv(key, value);
  return load();
}

/**
 * Captures everything written to stdout and stderr (Powertools logs) into the returned array, for PHI checks.
 * Call in `beforeEach`; `vi.restoreAllMocks()` undoes it.
 *
 * @example
 * let output: string[]; beforeEach(() => { output = captureConsoleOutput(); });
 */
export function captureConsoleOutput(): string[] {
  const output: string[] = [];
  const capture = (chunk: unknown) => {
    output.push(String(chunk));
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  return output;
}
