import * as z from '../validation/zod-mini.js';
import { InvalidWorkflowInputError } from './errors.js';
import type { RunLedger } from './run-ledger.js';
import type { ExportErrors, ProcessFileResult } from './types.js';

const processFileResultSchema = z.looseObject({
  type: z.string(),
  kind: z.enum(['output', 'deleted', 'error']),
  key: z.string(),
  resources: z.number(),
  deleted: z.number(),
  errors: z.number(),
  files: z.number(),
  deletedByType: z.optional(z.record(z.string(), z.number())),
});

/** Inputs the run-ledger Lambda accepts (the three actions and the EventBridge status-change event). */
export const ledgerRequestSchema = z.union([
  z.object({
    action: z.literal('acquire'),
    executionArn: z.string().check(z.minLength(1)),
    executionName: z.string().check(z.minLength(1)),
    startTime: z.optional(z.string()),
  }),
  z.object({
    action: z.literal('complete'),
    runId: z.string().check(z.minLength(1)),
    executionArn: z.string().check(z.minLength(1)),
    transactionTime: z.string().check(z.minLength(1)),
    jobId: z.string().check(z.minLength(1)),
    // Failed Map items (tolerated failures) come back as {Error, Cause}: they are skipped, not counted.
    results: z.nullish(z.array(z.unknown())),
    exportErrors: z.nullish(z.array(z.looseObject({ type: z.string() }))),
  }),
  z.object({
    action: z.literal('fail'),
    runId: z.string().check(z.minLength(1)),
    executionArn: z.string().check(z.minLength(1)),
    error: z.nullish(z.string()),
    cause: z.nullish(z.string()),
  }),
  z.object({
    source: z.literal('aws.states'),
    'detail-type': z.literal('Step Functions Execution Status Change'),
    detail: z.looseObject({
      executionArn: z.string().check(z.minLength(1)),
      name: z.string().check(z.minLength(1)),
      status: z.string(),
      error: z.nullish(z.string()),
      cause: z.nullish(z.string()),
    }),
  }),
]);

export type LedgerRequest = z.input<typeof ledgerRequestSchema>;

/**
 * Runs one ledger request. Status-change events of TIMED_OUT/ABORTED/FAILED executions fail the run and release
 * its lock (the execution timeout is invisible to Catch); other statuses are ignored.
 *
 * @example
 * await handleLedgerRequest({ action: 'fail', runId, executionArn, error: 'Export.JobFailed', cause: '…' }, ledger);
 */
export async function handleLedgerRequest(raw: unknown, ledger: RunLedger): Promise<unknown> {
  const parsed = ledgerRequestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidWorkflowInputError(
      `run-ledger input: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`,
    );
  }
  const request = parsed.data;
  if ('source' in request) {
    const { executionArn, name, status, error, cause } = request.detail;
    if (!['TIMED_OUT', 'ABORTED', 'FAILED'].includes(status)) return { ignored: true, status };
    return ledger.fail({
      runId: name,
      executionArn,
      error: error ?? `Execution.${status}`,
      cause: cause ?? `execution ended with status ${status}`,
    });
  }
  switch (request.action) {
    case 'acquire':
      return ledger.acquire(request);
    case 'complete':
      return ledger.complete({
        runId: request.runId,
        executionArn: request.executionArn,
        transactionTime: request.transactionTime,
        jobId: request.jobId,
        results: (request.results ?? []).flatMap((r) => {
          const parsed = processFileResultSchema.safeParse(r);
          return parsed.success ? [parsed.data as unknown as ProcessFileResult] : [];
        }),
        ...(request.exportErrors ? { exportErrors: request.exportErrors as ExportErrors } : {}),
      });
    case 'fail':
      return ledger.fail(request);
  }
}
