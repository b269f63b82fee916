import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateMachineExecutor } from '../../../src/local/state-machine/index.js';
import type { ExecutorOptions, ResourceHandler } from '../../../src/local/state-machine/index.js';

/** Creates executors on temp SQLite files and cleans them up. */
export class Harness {
  public readonly dir = mkdtempSync(join(tmpdir(), 'sfn-test-'));
  public readonly dbFile = join(this.dir, 'executions.db');
  private readonly executors: StateMachineExecutor[] = [];

  public create(
    definition: object,
    resources: Record<string, ResourceHandler> = {},
    extra: Partial<ExecutorOptions> = {},
  ): StateMachineExecutor {
    const executor = new StateMachineExecutor({ definition, resources, dbFile: this.dbFile, ...extra });
    this.executors.push(executor);
    return executor;
  }

  /** Starts an execution and waits for it to finish. */
  public async run(executor: StateMachineExecutor, input: unknown, name?: string) {
    const { executionArn } = await executor.startExecution({ input, ...(name ? { name } : {}) });
    return executor.waitForExecution(executionArn);
  }

  public async cleanup(): Promise<void> {
    for (const e of this.executors) await e.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Error with an ASL name, as a handler throws it. */
export function namedError(name: string, message: string): Error {
  const e = new Error(message);
  e.name = name;
  return e;
}
