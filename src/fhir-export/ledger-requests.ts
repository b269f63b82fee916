import * as z from '../validation/zod-mini.js';
import { InvalidWorkflowInputError } from './errors.js';
import { summarizeMapResults, type ReadObject } from './map-results.js';
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
    // Inline results (small runs, tests). Failed Map items (tolerated failures) come back as {Error, Cause}: skipped.
    results: z.nullish(z.array(z.unknown())),
    // The ProcessFiles ResultWriter's manifest.json: results are read from there, failed files counted.
    mapResults: z.nullish(
      z.object({ Bucket: z.string().check(z.minLength(1)), Key: z.string().check(z.minLength(1)) }),
    ),
    exportErrors: z.nullish(z.array(z.looseObject({ type: z.string() }))),
  }),
  z.object({
    action: z.literal('fail'),
    runId: z.string().check(z.minLength(1)),
    executionArn: z.string().check(z.minLength(1)),
    // An error name, or the caught error object `{Error, Cause?}` (the workflow passes it whole: Cause may be absent).
    error: z.nullish(
      z.union([z.string(), z.looseObject({ Error: z.nullish(z.string()), Cause: z.nullish(z.string()) })]),
    ),
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

/** What {@link handleLedgerRequest} needs besides the ledger. */
export interface LedgerRequestDeps {
  /** Reads the Map's result files (`complete` with `mapResults`): S3 in AWS, the local bucket directory locally. */
  readObject?: ReadObject;
}

/**
 * Runs one ledger request. Status-change events of TIMED_OUT/ABORTED/FAILED executions fail the run and release
 * its lock (the execution timeout is invisible to Catch); other statuses are ignored. `fail` answers the error and
 * cause it was given (cause `''` when there was none), for the workflow's failure event.
 *
 * @example
 * await handleLedgerRequest({ action: 'fail', runId, executionArn, error: { Error: 'States.Runtime' } }, ledger);
 * await handleLedgerRequest({ action: 'complete', runId, executionArn, transactionTime, jobId, mapResults }, ledger,
 *   { readObject: (bucket, key) => store(bucket).get(key) });
 */
export async function handleLedgerRequest(
  raw: unknown,
  ledger: RunLedger,
  deps: LedgerRequestDeps = {},
): Promise<unknown> {
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
    case 'complete': {
      let summed: Pick<Parameters<RunLedger['complete']>[0], 'counts' | 'failedFiles'> = {};
      if (request.mapResults) {
        if (!deps.readObject)
          throw new InvalidWorkflowInputError('run-ledger input: mapResults given, but no object reader is configured');
        const summary = await summarizeMapResults(request.mapResults, deps.readObject);
        summed = { counts: summary.counts, failedFiles: { count: summary.failedFiles, files: summary.failed } };
      }
      return ledger.complete({
        runId: request.runId,
        executionArn: request.executionArn,
        transactionTime: request.transactionTime,
        jobId: request.jobId,
        results: (request.results ?? []).flatMap((r) => {
          const parsed = processFileResultSchema.safeParse(r);
          return parsed.success ? [parsed.data as unknown as ProcessFileResult] : [];
        }),
        ...summed,
        ...(request.exportErrors ? { exportErrors: request.exportErrors as ExportErrors } : {}),
      });
    }
    case 'fail': {
      const caught = typeof request.error === 'object' && request.error !== null ? request.error : undefined;
      const error = (caught ? caught.Error : (request.error as string | null | undefined)) ?? 'Export.RunFailed';
      const cause = (caught ? caught.Cause : request.cause) ?? '';
      const result = await ledger.fail({ runId: request.runId, executionArn: request.executionArn, error, cause });
      return { ...result, error, cause };
    }
  }
}
