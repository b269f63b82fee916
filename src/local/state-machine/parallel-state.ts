/**
 * Parallel states (spec § "Parallel"), and {@link runAll}, the fail-fast concurrent runner that Parallel branches,
 * inline Map iterations and Distributed Map children share: the first failure cancels the others and fails the state
 * with ITS error.
 */
import { linkedController } from './abortable.js';
import { BranchCancelled } from './errors.js';
import { applyPayloadTemplate } from './input-output.js';
import type { RunContext, Scope, StateAttempt, StateContext } from './state-context.js';

/**
 * Runs one attempt of a Parallel state: every branch on the input after Parameters; returns their outputs in order.
 *
 * @example
 * const outputs = await runParallelState(context, { name: 'Both', state, input, rc, enteredAt, retryCount: 0 });
 */
export async function runParallelState(ctx: StateContext, attempt: StateAttempt): Promise<unknown[]> {
  const { name, state, input: effective, rc, enteredAt, retryCount } = attempt;
  const parameters =
    state.Parameters === undefined
      ? effective
      : applyPayloadTemplate(state.Parameters, effective, ctx.contextObject(rc, name, enteredAt, retryCount));
  const branches = state.Branches as Scope[];
  return runAll(branches.length, 0, rc, (i, child) => ctx.runScope(branches[i] as Scope, parameters, child));
}

/**
 * Runs `count` jobs with at most `limit` at once (0 = unlimited), failing fast: the first failure cancels the rest.
 * Each job gets a child context one level deeper whose signal aborts with the parent's or on that first failure.
 * Results are returned in index order.
 *
 * @example
 * await runAll(items.length, 40, rc, (i, child) => ctx.runScope(processor, items[i], child));
 */
export async function runAll(
  count: number,
  limit: number,
  rc: RunContext,
  job: (index: number, child: RunContext) => Promise<unknown>,
): Promise<unknown[]> {
  const link = linkedController(rc.signal);
  const child: RunContext = { ...rc, signal: link.signal, depth: rc.depth + 1 };
  const results: unknown[] = new Array<unknown>(count);
  let nextIndex = 0;
  let firstError: unknown;
  const worker = async (): Promise<void> => {
    while (nextIndex < count && firstError === undefined && !link.signal.aborted) {
      const i = nextIndex++;
      try {
        results[i] = await job(i, child);
      } catch (e) {
        if (firstError === undefined && !(e instanceof BranchCancelled && !rc.signal.aborted && link.signal.aborted)) {
          firstError = e;
          if (!link.signal.aborted) link.controller.abort(rc.signal.aborted ? rc.signal.reason : new BranchCancelled());
        }
      }
    }
  };
  const workers = Math.max(1, limit > 0 ? Math.min(limit, count) : count);
  try {
    await Promise.all(Array.from({ length: workers }, worker));
  } finally {
    link.dispose();
  }
  if (rc.signal.aborted) throw rc.signal.reason as Error;
  if (firstError !== undefined) throw firstError;
  return results;
}
