import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { HealthLakeClient } from '@aws-sdk/client-healthlake';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { SfnTaskCallbacks, SqsDelayQueue } from './aws-adapters.js';
import { BulkDataExportSource } from './bulk-data-export-source.js';
import { DynamoDbLedgerStore } from './dynamodb-ledger-store.js';
import { SfnExecutionStatus } from './execution-status.js';
import type { ExportStepDeps, StepOutcome } from './export-steps.js';
import { exportTaskEnvSchema, parseEnvironment, type ExportTaskEnv } from './export-task-env.js';
import { HealthLakeExportSource } from './healthlake-export-source.js';
import { parseS3Prefix } from './locate.js';
import { RunLedger } from './run-ledger.js';
import { S3ObjectStore } from '../aws/s3-object-store.js';
import { createSigV4Fetch } from './sigv4-fetch.js';
import { SmartBackendAuth } from './smart-backend-auth.js';
import type { FhirExportSource } from './types.js';

/** AWS clients the export-task Lambdas use (injectable; handlers pass Tracer-captured ones). */
export interface ExportTaskClients {
  sqs: SQSClient;
  sfn: SFNClient;
  s3: S3Client;
  dynamodb: DynamoDBClient;
  healthlake?: HealthLakeClient;
}

/**
 * Builds the AWS clients for a region.
 *
 * @example
 * const clients = createExportTaskClients('eu-west-2');
 */
export function createExportTaskClients(region: string | undefined): ExportTaskClients {
  const common = region ? { region } : {};
  return {
    sqs: new SQSClient(common),
    sfn: new SFNClient(common),
    s3: new S3Client(common),
    dynamodb: new DynamoDBClient(common),
    healthlake: new HealthLakeClient(common),
  };
}

/**
 * Wires the start/check step dependencies from the validated environment.
 *
 * @example
 * const deps = createExportStepDeps(env, createExportTaskClients(env.AWS_REGION));
 */
export function createExportStepDeps(env: ExportTaskEnv, clients: ExportTaskClients): ExportStepDeps {
  const region = env.HEALTHLAKE_REGION ?? env.AWS_REGION;
  if (!region && env.SOURCE_KIND === 'healthlake')
    throw new Error('invalid Lambda environment: HEALTHLAKE_REGION or AWS_REGION is required');
  const ledger = new RunLedger({
    store: new DynamoDbLedgerStore(clients.dynamodb, env.LEDGER_TABLE),
    executions: new SfnExecutionStatus(clients.sfn),
  });
  const exportStore = new S3ObjectStore(clients.s3, env.EXPORT_BUCKET, '', env.EXPORT_KMS_KEY_ID);
  const storeOf = (bucket: string) =>
    bucket === env.EXPORT_BUCKET ? exportStore : new S3ObjectStore(clients.s3, bucket, '', env.EXPORT_KMS_KEY_ID);
  let source: FhirExportSource;
  if (env.SOURCE_KIND === 'healthlake') {
    source = new HealthLakeExportSource({
      fhirBaseUrl: env.FHIR_BASE_URL,
      fetch: createSigV4Fetch({ region: region!, service: 'healthlake', credentials: defaultProvider() }),
      outputS3Uri: env.EXPORT_OUTPUT_S3_URI,
      ...(env.EXPORT_KMS_KEY_ID ? { kmsKeyId: env.EXPORT_KMS_KEY_ID } : {}),
      ...(env.DATA_ACCESS_ROLE_ARN ? { dataAccessRoleArn: env.DATA_ACCESS_ROLE_ARN } : {}),
      registry: ledger,
      ...(env.DATASTORE_ID && clients.healthlake
        ? { control: { client: clients.healthlake, datastoreId: env.DATASTORE_ID } }
        : {}),
      // check-export lists the job's folder (s3:ListBucket) when the status answer has no output[].
      exportStore: storeOf,
      api: env.HEALTHLAKE_EXPORT_API,
    });
  } else {
    const auth =
      env.SMART_CLIENT_ID && env.SMART_PRIVATE_KEY_PEM
        ? new SmartBackendAuth({
            clientId: env.SMART_CLIENT_ID,
            privateKeyPem: env.SMART_PRIVATE_KEY_PEM,
            algorithm: env.SMART_ALGORITHM,
            fhirBaseUrl: env.FHIR_BASE_URL,
            ...(env.SMART_TOKEN_URL ? { tokenUrl: env.SMART_TOKEN_URL } : {}),
            ...(env.SMART_KEY_ID ? { keyId: env.SMART_KEY_ID } : {}),
            ...(env.SMART_SCOPE ? { scope: env.SMART_SCOPE } : {}),
          })
        : undefined;
    const baseFetch = (url: string, init?: RequestInit) => fetch(url, init);
    const { bucket, prefix } = parseS3Prefix(env.EXPORT_OUTPUT_S3_URI);
    source = new BulkDataExportSource({
      fhirBaseUrl: env.FHIR_BASE_URL,
      fetch: auth ? auth.wrap(baseFetch) : baseFetch,
      registry: ledger,
      exportBucket: bucket,
      exportStore: storeOf(bucket),
      exportPrefix: prefix && !prefix.endsWith('/') ? `${prefix}/` : prefix,
    });
  }
  return {
    source,
    callbacks: new SfnTaskCallbacks(clients.sfn),
    recheckQueue: new SqsDelayQueue(clients.sqs, env.RECHECK_QUEUE_URL),
    manifestStore: exportStore,
    types: env.EXPORT_TYPES,
    policy: {
      initialCheckDelaySeconds: env.INITIAL_CHECK_DELAY_SECONDS,
      maxCheckDelaySeconds: env.MAX_CHECK_DELAY_SECONDS,
      backoffMultiplier: env.BACKOFF_MULTIPLIER,
      maxWaitSeconds: env.MAX_WAIT_SECONDS,
      maxDescribeErrors: env.MAX_DESCRIBE_ERRORS,
      completedWithErrors: env.COMPLETED_WITH_ERRORS,
      manifestBucket: env.EXPORT_BUCKET,
      manifestPrefix: env.MANIFEST_PREFIX,
    },
  };
}

/** What differs between the start-export and check-export Lambdas; see {@link createExportTaskHandler}. */
export interface ExportTaskHandlerOptions {
  /** Lambda name (`start-export` / `check-export`): service name of the logger, metrics and tracer. */
  name: string;
  /** The step each SQS message runs. */
  step: (message: unknown, deps: ExportStepDeps) => Promise<StepOutcome>;
  /** Metric counted once per processed message. */
  metricOf: (outcome: StepOutcome) => string;
  /** Extra log fields of a processed message (ids, statuses, reasons; never PHI). */
  logFieldsOf: (outcome: StepOutcome) => Record<string, unknown>;
  /** Log message when the step throws (the message becomes a batch item failure). */
  failureMessage: string;
  /** Environment to read (default `process.env`). */
  env?: NodeJS.ProcessEnv;
}

/**
 * Builds the SQS handler shared by start-export and check-export: validates the environment now (a bad deployment
 * fails at cold start), creates Tracer-captured clients, wires the step deps on first use, runs the step per record
 * and reports the records whose step threw as batch item failures.
 *
 * @example
 * export const handler = createExportTaskHandler({ name: 'check-export', step: checkExportStep,
 *   metricOf: (o) => `ExportCheck_${o.action}`, logFieldsOf: () => ({}), failureMessage: 'check-export could not complete' });
 */
export function createExportTaskHandler(
  options: ExportTaskHandlerOptions,
): (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse> {
  const env = parseEnvironment(exportTaskEnvSchema, options.env ?? process.env);
  const logger = new Logger({ serviceName: `tributary-${options.name}` });
  const metrics = new Metrics({ namespace: 'Tributary', serviceName: options.name });
  const tracer = new Tracer({ serviceName: `tributary-${options.name}` });
  const clients = createExportTaskClients(env.HEALTHLAKE_REGION ?? env.AWS_REGION);
  for (const client of Object.values(clients)) if (client) tracer.captureAWSv3Client(client);
  let deps: ExportStepDeps | undefined;
  return async (event, context) => {
    if (context) logger.addContext(context);
    deps ??= { ...createExportStepDeps(env, clients), log: (message, fields) => logger.info(message, fields) };
    const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
    try {
      for (const record of event.Records) {
        try {
          const outcome = await options.step(JSON.parse(record.body) as unknown, deps);
          metrics.addMetric(options.metricOf(outcome), MetricUnit.Count, 1);
          logger.info(`${options.name} processed`, {
            messageId: record.messageId,
            action: outcome.action,
            ...options.logFieldsOf(outcome),
          });
        } catch (error) {
          logger.error(options.failureMessage, { messageId: record.messageId, error: (error as Error).name });
          batchItemFailures.push({ itemIdentifier: record.messageId });
        }
      }
    } finally {
      metrics.publishStoredMetrics();
    }
    return { batchItemFailures };
  };
}
