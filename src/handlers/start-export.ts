import { createExportTaskHandler } from '../fhir-export/aws-export-task-wiring.js';
import { startExportStep } from '../fhir-export/export-steps.js';
import { exportTaskEnvSchema } from '../fhir-export/export-task-env.js';

/** Environment of start-export (same as check-export): see {@link exportTaskEnvSchema}. */
export const startExportEnvSchema = exportTaskEnvSchema;

/**
 * SQS consumer of the start queue: starts the export (idempotent on runId), queues the first recheck;
 * any failure becomes SendTaskFailure. Only a failed SendTaskFailure is reported as a batch item failure.
 *
 * @example
 * // SQS event source with ReportBatchItemFailures
 */
export const handler = createExportTaskHandler({
  name: 'start-export',
  step: startExportStep,
  metricOf: (outcome) => (outcome.action === 'failed' ? 'ExportStartFailed' : 'ExportStarted'),
  logFieldsOf: (outcome) => (outcome.action === 'failed' ? { error: outcome.error } : {}),
  failureMessage: 'start-export could not report',
});
