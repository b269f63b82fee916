import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createExportStepDeps, createExportTaskClients } from '../fhir-export/aws-export-task-wiring.js';
import { startExportStep, type ExportStepDeps } from '../fhir-export/export-steps.js';
import { exportTaskEnvSchema, parseEnvironment } from '../fhir-export/export-task-env.js';

/** Environment of start-export (same as check-export): see {@link exportTaskEnvSchema}. */
export const startExportEnvSchema = exportTaskEnvSchema;
const env = parseEnvironment(startExportEnvSchema, process.env);

const logger = new Logger({ serviceName: 'tributary-start-export' });
const metrics = new Metrics({ namespace: 'Tributary', serviceName: 'start-export' });
const tracer = new Tracer({ serviceName: 'tributary-start-export' });
const clients = createExportTaskClients(env.HEALTHLAKE_REGION ?? env.AWS_REGION);
for (const client of Object.values(clients)) if (client) tracer.captureAWSv3Client(client);
let deps: ExportStepDeps | undefined;

/**
 * SQS consumer of the start queue: starts the export (idempotent on runId), queues the first recheck;
 * any failure becomes SendTaskFailure. Only a failed SendTaskFailure is reported as a batch item failure.
 *
 * @example
 * // SQS event source with ReportBatchItemFailures
 */
export async function handler(event: SQSEvent, context?: Context): Promise<SQSBatchResponse> {
  if (context) logger.addContext(context);
  deps ??= { ...createExportStepDeps(env, clients), log: (message, fields) => logger.info(message, fields) };
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  try {
    for (const record of event.Records) {
      try {
        const outcome = await startExportStep(JSON.parse(record.body) as unknown, deps);
        metrics.addMetric(outcome.action === 'failed' ? 'ExportStartFailed' : 'ExportStarted', MetricUnit.Count, 1);
        logger.info('start-export processed', {
          messageId: record.messageId,
          action: outcome.action,
          ...(outcome.action === 'failed' ? { error: outcome.error } : {}),
        });
      } catch (error) {
        logger.error('start-export could not report', { messageId: record.messageId, error: (error as Error).name });
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
  } finally {
    metrics.publishStoredMetrics();
  }
  return { batchItemFailures };
}
