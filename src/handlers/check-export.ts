import { createExportTaskHandler } from '../fhir-export/aws-export-task-wiring.js';
import { checkExportStep } from '../fhir-export/export-steps.js';
import { exportTaskEnvSchema } from '../fhir-export/export-task-env.js';

/** Environment of check-export (same as start-export): see {@link exportTaskEnvSchema}. */
export const checkExportEnvSchema = exportTaskEnvSchema;

/**
 * SQS consumer of the recheck queue: heartbeat + requeue (DelaySeconds, honouring Retry-After) while the job runs;
 * manifest + SendTaskSuccess when done; SendTaskFailure for FAILED, CANCEL_ states, max wait and COMPLETED_WITH_ERRORS under `fail`.
 * Also cancels the job of a failed run on the run ledger's `{action:'cancel'}` message (best effort, no task token).
 *
 * @example
 * // SQS event source with ReportBatchItemFailures
 */
export const handler = createExportTaskHandler({
  name: 'check-export',
  step: checkExportStep,
  metricOf: (outcome) => `ExportCheck_${outcome.action}`,
  logFieldsOf: (outcome) => ({
    ...(outcome.action === 'failed' ? { error: outcome.error } : {}),
    ...(outcome.action === 'requeued' ? { delaySeconds: outcome.delaySeconds, status: outcome.status } : {}),
    ...(outcome.action === 'cancelled' ? { runId: outcome.runId, jobId: outcome.jobId } : {}),
    ...(outcome.action === 'dropped' ? { reason: outcome.reason } : {}),
  }),
  failureMessage: 'check-export could not complete',
});
