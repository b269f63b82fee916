import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createExportStepDeps, createExportTaskClients } from '../fhir-export/aws-export-task-wiring.js';
import { checkExportStep, type ExportStepDeps } from '../fhir-export/export-steps.js';
import { exportTaskEnvSchema, parseEnvironment } from '../fhir-export/export-task-env.js';

/** Environment of check-export (same as start-export): see {@link exportTaskEnvSchema}. */
export const checkExportEnvSchema = exportTaskEnvSchema;
const env = parseEnvironment(checkExportEnvSchema, process.env);

const logger = new Logger({ serviceName: 'tributary-check-export' });
const metrics = new Metrics({ namespace: 'Tributary', serviceName: 'check-export' });
const tracer = new Tracer({ serviceName: 'tributary-check-export' });
const clients = createExportTaskClients(env.HEALTHLAKE_REGION ?? env.AWS_REGION);
for (const client of Object.values(clients)) if (client) tracer.captureAWSv3Client(client);
let deps: ExportStepDeps | undefined;

/**
 * SQS consumer of the recheck queue: heartbeat + requeue (DelaySeconds, honouring Retry-After) while the job runs;
 * manifest + SendTaskSuccess when done; SendTaskFailure for FAILED, CANCEL_ states, max wait and COMPLETED_WITH_ERRORS under `fail`.
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
        const outcome = await checkExportStep(JSON.parse(record.body) as unknown, deps);
        metrics.addMetric(`ExportCheck_${outcome.action}`, MetricUnit.Count, 1);
        logger.info('check-export processed', {
          messageId: record.messageId,
          action: outcome.action,
          ...(outcome.action === 'failed' ? { error: outcome.error } : {}),
          ...(outcome.action === 'requeued' ? { delaySeconds: outcome.delaySeconds, status: outcome.status } : {}),
        });
      } catch (error) {
        logger.error('check-export could not complete', { messageId: record.messageId, error: (error as Error).name });
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
  } finally {
    metrics.publishStoredMetrics();
  }
  return { batchItemFailures };
}
