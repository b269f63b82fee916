/**
 * EventBridge Pipes enrichment for the `Patients` table stream: bare array of DynamoDB stream
 * records in, array of `PatientChange` envelopes out (the pipe sends them to its bus target).
 *
 * Failure contract: Pipes retries the WHOLE batch when an enrichment throws, so one bad record
 * would block the shard. Bad records are therefore dropped from the output, logged (eventId,
 * reason, errorType; never PHI) and, when `TRIBUTARY_ENRICHMENT_DLQ_URL` is set, parked on that
 * SQS queue with the raw record. The handler throws (and the batch is retried) only when the
 * input is not an array or the dead-letter queue does not accept a record.
 *
 * Write-through: with `TRIBUTARY_HEALTHLAKE_ENDPOINT` set, each change is also applied to the
 * datastore (SigV4-signed, idempotent: replaying a change leaves one version). A change the store
 * refuses is logged and parked on the DLQ; its event still goes to the bus.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { SQSClient } from '@aws-sdk/client-sqs';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { createSigV4Fetch } from '../fhir-export/sigv4-fetch.js';
import {
  enrichPatientBatch,
  FhirWriteThrough,
  loadPatientEnrichmentConfig,
  sendToDeadLetterQueue,
  type PatientChange,
  type PatientStreamRecord,
} from '../patient-enrichment/index.js';

/** Collaborators of the handler, injectable for tests. */
export interface PatientEnrichmentHandlerDeps {
  env?: Record<string, string | undefined>;
  logger?: Logger;
  metrics?: Metrics;
  sqs?: SQSClient;
  /** The write-through store, when the environment names one (built from it by default). */
  writeThrough?: FhirWriteThrough;
}

/**
 * Builds the Pipes enrichment handler. Config is read once, at build time.
 *
 * @example
 * export const handler = createPatientEnrichmentHandler({ env: process.env });
 */
export function createPatientEnrichmentHandler(deps: PatientEnrichmentHandlerDeps = {}) {
  const config = loadPatientEnrichmentConfig(deps.env ?? process.env);
  const logger = deps.logger ?? new Logger({ serviceName: 'patient-enrichment' });
  const metrics = deps.metrics ?? new Metrics({ namespace: 'Tributary', serviceName: 'patient-enrichment' });
  let sqs = deps.sqs;
  const writeThrough =
    deps.writeThrough ??
    (config.writeThrough
      ? new FhirWriteThrough({
          baseUrl: config.writeThrough.baseUrl,
          identifierSystem: config.options.identifierSystem,
          fetch: createSigV4Fetch({
            region: config.writeThrough.region,
            credentials: defaultProvider(),
          }) as typeof fetch,
        })
      : undefined);

  return async (records: unknown): Promise<PatientChange[]> => {
    if (!Array.isArray(records)) {
      throw new TypeError('expected a bare array of DynamoDB stream records (EventBridge Pipes enrichment input)');
    }
    const input = records as PatientStreamRecord[];
    const { events, failures } = await enrichPatientBatch(input, config.options);
    for (const failure of failures) logger.warn('patient record dropped', { ...failure });
    const parked = [...failures];
    if (writeThrough && events.length > 0) {
      const written = await writeThrough.applyAll(events);
      for (const failure of written.failures) logger.warn('patient write-through failed', { ...failure });
      metrics.addMetric('PatientWriteThroughFailed', MetricUnit.Count, written.failures.length);
      parked.push(...written.failures);
    }
    if (parked.length > 0 && config.deadLetterQueueUrl) {
      sqs ??= new SQSClient({});
      const byEventId = new Map(input.map((record, index) => [record?.eventID ?? `index:${index}`, record]));
      await sendToDeadLetterQueue(
        sqs,
        config.deadLetterQueueUrl,
        parked.map((failure) => ({ ...failure, record: byEventId.get(failure.eventId) })),
      );
    }
    logger.info('patient batch enriched', { records: input.length, events: events.length, failed: failures.length });
    metrics.addMetric('PatientChangesEnriched', MetricUnit.Count, events.length);
    metrics.addMetric('PatientChangesFailed', MetricUnit.Count, failures.length);
    metrics.publishStoredMetrics();
    return events;
  };
}

/** The Lambda entry point. */
export const handler = createPatientEnrichmentHandler();
