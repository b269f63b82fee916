import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as pipes from 'aws-cdk-lib/aws-pipes';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { TableConfig } from '../../src/config/schema.js';
import type { HandlerCodeProvider } from './lambda/handler-code.js';
import { TributaryFunction } from './lambda/tributary-function.js';
import { grantKeyUse } from './shared/encryption.js';
import { createDeadLetterQueue } from './shared/queues.js';
import { createStreamTable, pipeConfigOf, pipeFilterCriteria, streamSourceGrants } from './shared/stream-source.js';

/** Largest pipe batch an EventBridge bus target accepts (PutEvents). */
export const EVENT_BUS_MAX_BATCH = 10;
/** Detail-type of the events this pipe publishes. */
export const PATIENT_CHANGE_DETAIL_TYPE = 'PatientChange';
/** Default source of the events this pipe publishes. */
export const PATIENT_CHANGE_SOURCE = 'tributary.patients';

/** HealthLake write-through target of {@link PatientEnrichmentPipe}. */
export interface HealthLakeWriteThrough {
  /** Datastore ARN (the enrichment Lambda may update/read/delete resources in it only). */
  readonly datastoreArn: string;
  /** FHIR R4 endpoint, `https://healthlake.<region>.amazonaws.com/datastore/<id>/r4/`. */
  readonly datastoreEndpoint: string;
}

/** Props of {@link PatientEnrichmentPipe}. Every default is listed. */
export interface PatientEnrichmentPipeProps {
  /** The patients table's config entry (name, keys, stream, `pipe.filter`, `pipe.batchSize` up to 10). */
  readonly table: TableConfig;
  /** Use this existing table (with `tableStreamArn`). Default: create it from `table` and `tableProps`. */
  readonly existingTable?: dynamodb.ITable;
  /** Overrides for the new table. Default: on-demand, CMK, PITR, the configured stream view. */
  readonly tableProps?: Partial<dynamodb.TableProps>;
  /** Bus the PatientChange events go to. Default: a new bus. */
  readonly existingEventBus?: events.IEventBus;
  /** Bundles of the handlers (patient-enrichment). */
  readonly handlerCode: HandlerCodeProvider;
  /** Customer-managed key for the table, DLQ, pipe and logs. */
  readonly encryptionKey: kms.IKey;
  /** Enrichment options (the config's `patientEnrichment`). Default: identifier system `urn:tributary:patient-id`, source `tributary.patients`, no run-time validation. */
  readonly enrichmentOptions?: {
    readonly identifierSystem?: string;
    readonly source?: string;
    readonly validate?: boolean;
  };
  /** Also write each FHIR Patient to HealthLake. Default: none (events only). */
  readonly healthLakeWriteThrough?: HealthLakeWriteThrough;
  /** Pipe dead-letter queue. Default: a new KMS-encrypted queue. */
  readonly existingDeadLetterQueue?: sqs.IQueue;
  /** Pipe retries before a batch goes to the DLQ. Default: the table's `pipe.maximumRetryAttempts`, else 10. */
  readonly maximumRetryAttempts?: number;
  /** Default: `RemovalPolicy.RETAIN`. */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Patients table stream -> EventBridge Pipe -> patient-enrichment Lambda (domain patient to FHIR R4
 * Patient envelope) -> EventBridge bus as `PatientChange` (SYSTEM.md §2), with a DLQ and optional
 * write-through to HealthLake.
 *
 * @example
 * new PatientEnrichmentPipe(this, 'Patients', { table: patientsConfig, handlerCode, encryptionKey: key });
 */
export class PatientEnrichmentPipe extends Construct {
  public readonly table: dynamodb.ITable;
  public readonly pipe: pipes.CfnPipe;
  public readonly enrichment: TributaryFunction;
  public readonly eventBus: events.IEventBus;
  public readonly deadLetterQueue: sqs.IQueue;
  /** Records the enrichment Lambda could not map, with the reason (never dropped). */
  public readonly unenrichableQueue: sqs.IQueue;
  /** Metrics worth an alarm, by name. */
  public readonly alarmMetrics: Record<string, cloudwatch.IMetric>;

  public constructor(scope: Construct, id: string, props: PatientEnrichmentPipeProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const key = props.encryptionKey;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const config = props.table;
    const pipeConfig = pipeConfigOf(config);
    const source = props.enrichmentOptions?.source ?? PATIENT_CHANGE_SOURCE;
    const batchSize = Math.min(pipeConfig.batchSize, EVENT_BUS_MAX_BATCH);
    const filterCriteria = pipeFilterCriteria(pipeConfig.filter, `tables.${config.name}.pipe.filter`);

    this.table = props.existingTable ?? createStreamTable(this, 'Table', config, key, removalPolicy, props.tableProps);
    const streamArn = this.table.tableStreamArn;
    if (!streamArn)
      throw new Error(
        `table ${config.name}: an existing table needs its stream ARN (Table.fromTableAttributes({ tableStreamArn }))`,
      );
    this.eventBus =
      props.existingEventBus ?? new events.EventBus(this, 'Bus', { description: 'Tributary PatientChange events' });
    this.deadLetterQueue = props.existingDeadLetterQueue ?? createDeadLetterQueue(this, 'PipeDlq', key, removalPolicy);
    // Records the enrichment cannot map (bad input) go here, so one bad record does not fail the batch.
    this.unenrichableQueue = createDeadLetterQueue(this, 'UnenrichableQueue', key, removalPolicy);

    this.enrichment = new TributaryFunction(this, 'Enrichment', {
      handlerName: 'patient-enrichment',
      code: props.handlerCode,
      encryptionKey: key,
      removalPolicy,
      timeout: Duration.seconds(30),
      reservedConcurrentExecutions: 10,
      environment: {
        TRIBUTARY_EVENT_SOURCE: source,
        ...(props.enrichmentOptions?.identifierSystem
          ? { TRIBUTARY_IDENTIFIER_SYSTEM: props.enrichmentOptions.identifierSystem }
          : {}),
        TRIBUTARY_VALIDATE_FHIR: String(props.enrichmentOptions?.validate ?? false),
        TRIBUTARY_ENRICHMENT_DLQ_URL: this.unenrichableQueue.queueUrl,
        ...(props.healthLakeWriteThrough
          ? { TRIBUTARY_HEALTHLAKE_ENDPOINT: props.healthLakeWriteThrough.datastoreEndpoint }
          : {}),
      },
    });
    this.enrichment.role.addToPolicy(
      new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.unenrichableQueue.queueArn] }),
    );
    grantKeyUse(key, this.enrichment.role, 'encrypt');
    if (props.healthLakeWriteThrough) {
      this.enrichment.role.addToPolicy(
        new iam.PolicyStatement({
          actions: ['healthlake:UpdateResource', 'healthlake:ReadResource', 'healthlake:DeleteResource'],
          resources: [props.healthLakeWriteThrough.datastoreArn],
        }),
      );
    }

    const pipeLogs = new logs.LogGroup(this, 'PipeLogs', {
      encryptionKey: key,
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy,
    });
    const pipeRole = new iam.Role(this, 'PipeRole', {
      assumedBy: new iam.ServicePrincipal('pipes.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: `Tributary: pipe from the ${config.name} stream through patient enrichment to the bus`,
    });
    streamSourceGrants(pipeRole, streamArn, this.table.encryptionKey);
    pipeRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: [this.enrichment.function.functionArn],
      }),
    );
    pipeRole.addToPolicy(
      new iam.PolicyStatement({ actions: ['events:PutEvents'], resources: [this.eventBus.eventBusArn] }),
    );
    pipeRole.addToPolicy(
      new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.deadLetterQueue.queueArn] }),
    );
    pipeRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [pipeLogs.logGroupArn],
      }),
    );
    grantKeyUse(key, pipeRole, 'encrypt');

    this.pipe = new pipes.CfnPipe(this, 'Pipe', {
      description: `Tributary: ${config.name} changes as FHIR Patient events`,
      roleArn: pipeRole.roleArn,
      source: streamArn,
      sourceParameters: {
        dynamoDbStreamParameters: {
          startingPosition: pipeConfig.startingPosition,
          batchSize,
          maximumBatchingWindowInSeconds: Math.round(pipeConfig.batchWindowSeconds),
          deadLetterConfig: { arn: this.deadLetterQueue.queueArn },
          maximumRetryAttempts: props.maximumRetryAttempts ?? pipeConfig.maximumRetryAttempts ?? 10,
          onPartialBatchItemFailure: 'AUTOMATIC_BISECT',
        },
        ...(filterCriteria ? { filterCriteria } : {}),
      },
      enrichment: this.enrichment.function.functionArn,
      target: this.eventBus.eventBusArn,
      targetParameters: {
        eventBridgeEventBusParameters: { detailType: PATIENT_CHANGE_DETAIL_TYPE, source },
      },
      kmsKeyIdentifier: key.keyArn,
      logConfiguration: { level: 'ERROR', cloudwatchLogsLogDestination: { logGroupArn: pipeLogs.logGroupArn } },
    });
    this.pipe.node.addDependency(pipeRole);

    this.alarmMetrics = {
      PipeExecutionFailed: new cloudwatch.Metric({
        namespace: 'AWS/EventBridge/Pipes',
        metricName: 'ExecutionFailed',
        dimensionsMap: { PipeName: this.pipe.ref },
        period: Duration.minutes(5),
        statistic: 'Sum',
      }),
      PipeDlqDepth: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
      UnenrichableDepth: this.unenrichableQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
      EnrichmentErrors: this.enrichment.metricErrors(),
    };
  }
}
