import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { S3ObjectStore } from '../aws/s3-object-store.js';
import {
  isS3Event,
  updateCurrentOnObjectCreated,
  type ObjectCreatedCurrentResult,
} from '../lake/current-on-object-created.js';
import { DynamoDbLedgerStore } from '../fhir-export/dynamodb-ledger-store.js';
import { parseEnvironment, updateViewsEnvSchema } from '../fhir-export/export-task-env.js';
import { RunLedger } from '../fhir-export/run-ledger.js';
import { loadViewFiles } from '../views/lake/load-views.js';
import { updateViewsOnRunSucceeded, type RunViewsResult } from '../views/lake/run-succeeded.js';
import type { CompiledView } from '../views/types.js';

/** Environment of update-views (schema in src/fhir-export/export-task-env.ts, importable without side effects). */
export { updateViewsEnvSchema };
const env = parseEnvironment(updateViewsEnvSchema, process.env);

const logger = new Logger({ serviceName: 'tributary-update-views' });
const metrics = new Metrics({ namespace: 'Tributary', serviceName: 'update-views' });
const tracer = new Tracer({ serviceName: 'tributary-update-views' });
const region = env.AWS_REGION ? { region: env.AWS_REGION } : {};
const s3 = tracer.captureAWSv3Client(new S3Client(region));
const lake = new S3ObjectStore(s3, env.LAKE_BUCKET, env.LAKE_PREFIX, env.LAKE_KMS_KEY_ID);
// Reads only (getRun): the lock owner's status is never asked for.
const ledger = new RunLedger({
  store: new DynamoDbLedgerStore(tracer.captureAWSv3Client(new DynamoDBClient(region)), env.LEDGER_TABLE),
  executions: {
    statusOf: () => Promise.reject(new Error('update-views does not read execution status')),
  },
});

let views: CompiledView[] | undefined;
/** The ViewDefinitions shipped in the function's asset (`views/*.json` beside index.mjs), compiled on first use. */
function loadViews(): CompiledView[] {
  if (!views) {
    const dir = env.VIEWS_DIR ?? join(dirname(fileURLToPath(import.meta.url)), 'views');
    const files = readdirSync(dir)
      .filter((file) => file.endsWith('.json'))
      .sort()
      .map((file) => join(dir, file));
    views = loadViewFiles(files);
  }
  return views;
}

/**
 * The views writer on AWS: the export state machine's SUCCEEDED "Step Functions Execution Status Change" event (an
 * EventBridge rule) → for a COMPLETED or COMPLETED_WITH_ERRORS run, one Parquet delta per view under
 * `views/<name>/run=<transactionTime>/` in the lake bucket (DuckDB from the `duckdb` layer, loaded on first use).
 * Logs view names and counts only. An EventBridge S3 "Object Created" event for a change file under `changes/`
 * instead gets that file's `current/<table>/` Parquet delta (src/lake/current-on-object-created.ts).
 *
 * @example
 * await handler({ 'detail-type': 'Step Functions Execution Status Change', detail: { name: 'run-1', status: 'SUCCEEDED' } });
 */
export async function handler(event: unknown, context?: Context): Promise<RunViewsResult | ObjectCreatedCurrentResult> {
  if (context) logger.addContext(context);
  // DuckDB spills to `.tmp` under the working directory; /var/task is read-only.
  const scratchDir = env.SCRATCH_DIR ?? tmpdir();
  process.chdir(scratchDir);
  try {
    if (isS3Event(event)) {
      const result = await updateCurrentOnObjectCreated(event, { store: lake, prefix: env.LAKE_PREFIX, scratchDir });
      metrics.addMetric('CurrentKeysWritten', MetricUnit.Count, result.update?.keys ?? 0);
      logger.info('current update', {
        table: result.table,
        skipped: result.skipped,
        files: result.update?.files ?? 0,
        keys: result.update?.keys ?? 0,
      });
      return result;
    }
    const result = await updateViewsOnRunSucceeded(event, {
      getRun: (runId) => ledger.getRun(runId),
      store: lake,
      views: loadViews(),
      scratchDir,
      log: (message, fields) => logger.info(message, fields),
    });
    const rows = result.updates.reduce((sum, update) => sum + update.rows, 0);
    metrics.addMetric('ViewRowsWritten', MetricUnit.Count, rows);
    logger.info('views update', {
      runId: result.runId,
      status: result.status,
      skipped: result.skipped,
      views: result.updates.length,
      rows,
    });
    return result;
  } catch (error) {
    logger.error(isS3Event(event) ? 'current update failed' : 'views update failed', { error: (error as Error).name });
    throw error;
  } finally {
    metrics.publishStoredMetrics();
  }
}
