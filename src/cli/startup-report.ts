import type { LocalStack } from '../local/local-stack.js';
import { describeOwner } from '../local/process-owner.js';

/**
 * Lines about what opening a state directory repaired after a crash: a dead owner's lock taken over, orphaned temporary
 * files removed, stream records of interrupted DynamoDB writes appended, export runs of a dead process failed or
 * resumed. Ids and counts only. `sync` and `up` print them.
 *
 * @example
 * for (const line of startupReport(stack)) process.stderr.write(`sync: ${line}\n`);
 */
export function startupReport(stack: LocalStack): string[] {
  const lines: string[] = [];
  const { startup } = stack;
  if (startup.tookOverFrom)
    lines.push(`took over the state directory from ${describeOwner(startup.tookOverFrom)}, which is no longer running`);
  if (startup.removedTempFiles > 0)
    lines.push(`removed ${startup.removedTempFiles} orphaned temporary file(s) of a dead writer`);
  if (startup.recoveredStreamRecords)
    lines.push(
      `dynamodb: appended ${startup.recoveredStreamRecords} stream record(s) of write(s) a crash had interrupted`,
    );
  for (const run of stack.exportRuntime?.recovered ?? []) {
    const owner = run.owner ? describeOwner(run.owner) : 'a process';
    lines.push(
      run.action === 'failed'
        ? `export: took over the lock of run ${run.runId}: its owner ${owner} died; the run is marked FAILED (Tributary.OwnerDied)`
        : `export: resumed run ${run.runId} of ${owner}, which died`,
    );
  }
  return lines;
}
