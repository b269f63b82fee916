/**
 * Firehose data-transformation Lambda for a change-stream pipe (Pipe → Firehose → S3 with dynamic
 * partitioning). Each Firehose record holds one DynamoDB stream record JSON. Returns one NDJSON
 * line per record plus partition keys; a bad record is `ProcessingFailed` (Firehose writes it to
 * the error prefix), never a failed batch. Logs ids, types and counts only.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { FirehoseTransformationEvent, FirehoseTransformationResult } from 'aws-lambda';
import { loadFirehoseTransformConfig, transformFirehoseRecords } from '../change-stream/index.js';

/** Collaborators of the handler, injectable for tests. */
export interface FirehoseTransformHandlerDeps {
  env?: Record<string, string | undefined>;
  logger?: Logger;
  metrics?: Metrics;
}

/**
 * Builds the handler; config is read once, at build time (a bad config fails the cold start).
 *
 * @example
 * export const handler = createFirehoseTransformHandler({ env: process.env });
 */
export function createFirehoseTransformHandler(deps: FirehoseTransformHandlerDeps = {}) {
  const table = loadFirehoseTransformConfig(deps.env ?? process.env);
  const logger = deps.logger ?? new Logger({ serviceName: 'firehose-transform' });
  const metrics = deps.metrics ?? new Metrics({ namespace: 'Tributary', serviceName: 'firehose-transform' });

  return async (event: FirehoseTransformationEvent): Promise<FirehoseTransformationResult> => {
    const { records, failures } = transformFirehoseRecords(event.records ?? [], table);
    for (const failure of failures) logger.warn('change record failed', { ...failure });
    logger.info('firehose batch transformed', {
      invocationId: event.invocationId,
      table: table.name,
      records: records.length,
      failed: failures.length,
    });
    metrics.addMetric('ChangeRecordsTransformed', MetricUnit.Count, records.length - failures.length);
    metrics.addMetric('ChangeRecordsFailed', MetricUnit.Count, failures.length);
    metrics.publishStoredMetrics();
    return { records };
  };
}

let configured: ReturnType<typeof createFirehoseTransformHandler> | undefined;

/** The Lambda entry point. Built on first invocation, so importing the module never reads the environment. */
export const handler = (event: FirehoseTransformationEvent): Promise<FirehoseTransformationResult> => {
  configured ??= createFirehoseTransformHandler();
  return configured(event);
};
