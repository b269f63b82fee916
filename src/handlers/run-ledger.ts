import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { S3ObjectStore } from '../aws/s3-object-store.js';
import { createAwsRunLedger } from '../fhir-export/aws-run-ledger-wiring.js';
import { parseEnvironment, runLedgerEnvSchema } from '../fhir-export/export-task-env.js';
import { handleLedgerRequest } from '../fhir-export/ledger-requests.js';

/** Environment of run-ledger (schema in src/fhir-export/export-task-env.ts, importable without side effects). */
export { runLedgerEnvSchema };
const env = parseEnvironment(runLedgerEnvSchema, process.env);

const logger = new Logger({ serviceName: 'tributary-run-ledger' });
const metrics = new Metrics({ namespace: 'Tributary', serviceName: 'run-ledger' });
const tracer = new Tracer({ serviceName: 'tributary-run-ledger' });
const region = env.AWS_REGION ? { region: env.AWS_REGION } : {};
// A failed run's job is cancelled through the recheck queue (check-export holds the FHIR credentials).
const ledger = createAwsRunLedger(
  env,
  {
    dynamodb: tracer.captureAWSv3Client(new DynamoDBClient(region)),
    sfn: tracer.captureAWSv3Client(new SFNClient(region)),
    sqs: tracer.captureAWSv3Client(new SQSClient(region)),
  },
  (message, fields) => logger.info(message, fields),
);
// CompleteRun reads the Distributed Map's result files (its ResultWriter output) from the bucket the workflow names.
const s3 = tracer.captureAWSv3Client(new S3Client(region));
const readObject = (bucket: string, key: string) => new S3ObjectStore(s3, bucket).get(key);

/**
 * The run ledger: `{action:'acquire'|'complete'|'fail', …}` from the state machine, or an EventBridge
 * "Step Functions Execution Status Change" event (TIMED_OUT/ABORTED/FAILED → fail, releasing the lock). A failed or
 * taken-over run's job is cancelled by a `{action:'cancel'}` message to the recheck queue (RECHECK_QUEUE_URL).
 * `complete` sums the Map's result files (`mapResults`, the ResultWriter's manifest.json) and answers `COMPLETED` or
 * `COMPLETED_WITH_ERRORS` (with errors per type and failed files; also a metric).
 *
 * @example
 * await handler({ action: 'acquire', executionArn, executionName, startTime });
 */
export async function handler(event: unknown, context?: Context): Promise<unknown> {
  if (context) logger.addContext(context);
  const action = (event as { action?: string; 'detail-type'?: string } | undefined)?.action ?? 'status-change';
  try {
    const result = await handleLedgerRequest(event, ledger, { readObject });
    metrics.addMetric(`Ledger_${action}`, MetricUnit.Count, 1);
    // Alarmable: the run landed what it could, but the export reported errors (policy `continue`) or lines were rejected.
    if ((result as { status?: string } | undefined)?.status === 'COMPLETED_WITH_ERRORS')
      metrics.addMetric('ExportRunCompletedWithErrors', MetricUnit.Count, 1);
    logger.info('ledger request', { action, result: summary(result) });
    return result;
  } catch (error) {
    logger.error('ledger request failed', { action, error: (error as Error).name });
    throw error;
  } finally {
    metrics.publishStoredMetrics();
  }
}

function summary(result: unknown): Record<string, unknown> {
  const r = result as { acquired?: boolean; runId?: string; status?: string; reason?: string };
  return { acquired: r?.acquired, runId: r?.runId, status: r?.status, reason: r?.reason };
}
