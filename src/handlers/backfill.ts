/**
 * The backfill/repair workflow's Lambda (src/backfill/workflow.asl.json): `plan`, `land` (one export data file per
 * Distributed Map child) and `summarize`. Logs action, table, ids and counts only; never item data.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { S3ObjectStore } from '../aws/s3-object-store.js';
import { backfillEnvSchema, backfillTablesOf } from '../backfill/handler-env.js';
import {
  runBackfillTask,
  type BackfillPlan,
  type BackfillSummary,
  type BackfillTaskDeps,
  type LandedDataFile,
} from '../backfill/workflow-tasks.js';
import { parseEnvironment } from '../fhir-export/export-task-env.js';
import type { ObjectStore } from '../ports/object-store.js';

const logger = new Logger({ serviceName: 'tributary-backfill' });
const metrics = new Metrics({ namespace: 'Tributary', serviceName: 'backfill' });
const tracer = new Tracer({ serviceName: 'tributary-backfill' });

/**
 * Builds the task's collaborators from the environment (AWS clients, the lake, the tables).
 *
 * @example
 * const deps = backfillDepsFromEnv(process.env);
 */
export function backfillDepsFromEnv(environment: NodeJS.ProcessEnv): BackfillTaskDeps {
  const env = parseEnvironment(backfillEnvSchema, environment);
  const region = env.AWS_REGION ? { region: env.AWS_REGION } : {};
  const s3 = tracer.captureAWSv3Client(new S3Client(region));
  const stores = new Map<string, ObjectStore>();
  return {
    tables: backfillTablesOf(env.BACKFILL_TABLES),
    settings: {
      exportBucket: env.EXPORT_BUCKET,
      exportPrefix: env.EXPORT_PREFIX,
      exportKmsKeyId: env.EXPORT_KMS_KEY_ID,
      pollSeconds: Number(env.POLL_SECONDS),
      maxPolls: Number(env.MAX_POLLS),
      maxBufferBytes: Number(env.MAX_BUFFER_MIB) * 1024 * 1024,
    },
    dynamodb: tracer.captureAWSv3Client(new DynamoDBClient(region)),
    bucket: (name) => {
      let store = stores.get(name);
      if (!store) stores.set(name, (store = new S3ObjectStore(s3, name)));
      return store;
    },
    lake: new S3ObjectStore(s3, env.LAKE_BUCKET, '', env.LAKE_KMS_KEY_ID),
  };
}

let deps: BackfillTaskDeps | undefined;

/**
 * The Lambda entry point; collaborators are built on the first invocation.
 *
 * @example
 * await handler({ action: 'land', table: 'visits', bucket, summaryKey, dataFileKey });
 */
export async function handler(
  event: unknown,
  context?: Context,
): Promise<BackfillPlan | LandedDataFile | BackfillSummary> {
  if (context) logger.addContext(context);
  deps ??= backfillDepsFromEnv(process.env);
  const action = (event as { action?: unknown } | null)?.action;
  const table =
    (event as { table?: unknown; input?: { table?: unknown } } | null)?.table ??
    (event as { input?: { table?: unknown } } | null)?.input?.table;
  try {
    const result = await runBackfillTask(event, deps);
    if (action === 'land') {
      const landed = result as LandedDataFile;
      metrics.addMetric('BackfillRecordsLanded', MetricUnit.Count, landed.records);
      metrics.addMetric('BackfillRecordsFailed', MetricUnit.Count, landed.failed);
      logger.info('data file landed', {
        table: String(table),
        records: landed.records,
        failed: landed.failed,
        files: landed.files,
      });
    } else if (action === 'plan') {
      const plan = result as BackfillPlan;
      logger.info('backfill planned', {
        table: plan.table,
        mode: plan.mode,
        exportType: plan.exportType,
        exportTime: plan.exportTime,
        exportFromTime: plan.exportFromTime,
        exportToTime: plan.exportToTime,
        widened: plan.widened,
        chained: plan.next !== null,
        exportArn: plan.exportArn,
      });
    } else {
      logger.info('backfill summarized', { ...(result as BackfillSummary) });
    }
    return result;
  } catch (error) {
    logger.error('backfill task failed', {
      action: String(action),
      table: String(table),
      error: (error as Error).name,
    });
    throw error;
  } finally {
    metrics.publishStoredMetrics();
  }
}
