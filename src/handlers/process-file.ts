import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { EventBridgeBus } from '../event-bus/eventbridge-bus.js';
import { parseEnvironment, processFileEnvSchema } from '../fhir-export/export-task-env.js';
import { parseProcessFileInput } from '../fhir-export/process-file-input.js';
import { processExportFile } from '../fhir-export/process-file.js';
import { S3ObjectStore } from '../aws/s3-object-store.js';
import type { ProcessFileResult } from '../fhir-export/types.js';
import type { ObjectStore } from '../ports/object-store.js';

/** Environment of process-file (schema in src/fhir-export/export-task-env.ts, importable without side effects). */
export { processFileEnvSchema };
const env = parseEnvironment(processFileEnvSchema, process.env);

const logger = new Logger({ serviceName: 'tributary-process-file' });
const metrics = new Metrics({ namespace: 'Tributary', serviceName: 'process-file' });
const tracer = new Tracer({ serviceName: 'tributary-process-file' });
const s3 = tracer.captureAWSv3Client(new S3Client(env.AWS_REGION ? { region: env.AWS_REGION } : {}));
const lake = new S3ObjectStore(s3, env.LAKE_BUCKET, env.LAKE_PREFIX, env.LAKE_KMS_KEY_ID);
const stores = new Map<string, ObjectStore>();
const bus =
  env.EMIT_EVENTS === 'true' && env.EVENT_BUS_NAME
    ? new EventBridgeBus({
        client: tracer.captureAWSv3Client(new EventBridgeClient(env.AWS_REGION ? { region: env.AWS_REGION } : {})),
        eventBusName: env.EVENT_BUS_NAME,
      })
    : undefined;

/**
 * Distributed Map child: lands one exported NDJSON file in the lake. Throws on failure (the Map retries; writes are idempotent).
 *
 * @example
 * await handler({ item: { bucket, key, type: 'Patient', kind: 'output' }, runId, jobId, transactionTime });
 */
export async function handler(event: unknown, context?: Context): Promise<ProcessFileResult> {
  if (context) logger.addContext(context);
  const input = parseProcessFileInput(event);
  try {
    const result = await processExportFile(input, {
      exportStore: (bucket) => {
        let store = stores.get(bucket);
        if (!store) stores.set(bucket, (store = new S3ObjectStore(s3, bucket)));
        return store;
      },
      lake,
      ...(bus ? { bus } : {}),
      maxBufferedBytes: env.MAX_BUFFER_MIB * 1024 * 1024,
    });
    metrics.addMetric('FhirResourcesLanded', MetricUnit.Count, result.resources);
    metrics.addMetric('FhirTombstonesLanded', MetricUnit.Count, result.deleted);
    metrics.addMetric('FhirLinesRejected', MetricUnit.Count, result.errors);
    logger.info('file processed', {
      runId: input.runId,
      jobId: input.jobId,
      type: input.type,
      kind: input.kind,
      resources: result.resources,
      deleted: result.deleted,
      errors: result.errors,
    });
    return result;
  } catch (error) {
    logger.error('file failed', {
      runId: input.runId,
      jobId: input.jobId,
      type: input.type,
      error: (error as Error).name,
    });
    throw error;
  } finally {
    metrics.publishStoredMetrics();
  }
}
