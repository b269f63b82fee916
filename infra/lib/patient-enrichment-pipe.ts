import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as pipes from 'aws-cdk-lib/aws-pipes';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { TableConfig } from '../../src/config/schema.js';
import type { HandlerCodeProvider } from './lambda/handler-code.js';
import { TributaryFunction } from './lambda/tributary-function.js';
import { grantKeyUse } from './shared/encryption.js';
import { assertAlternatives } from './shared/props.js';
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

/** Props of {@link PatientEnrichmentPipe}. Every optional prop documents its default; `existingX` and `xProps` are alternatives. */
export interface PatientEnrichmentPipeProps {
  /** The patients table's config entry (name, keys, stream, `pipe.filter`, `pipe.batchSize` up to 10). */
  readonly table: TableConfig;
  /**
   * Use this existing table (with `tableStreamArn`). An alternative to `tableProps`.
   *
   * @default - a new table from `table` and `tableProps`
   */
  readonly existingTable?: dynamodb.ITable;
  /**
   * Overrides for the new table. An alternative to `existingTable`.
   *
   * @default - on-demand, CMK encryption, PITR, the configured stream view, deletion protection when retained
   */
  readonly tableProps?: Partial<dynamodb.TableProps>;
  /**
   * Bus the PatientChange events go to. Events carry PHI: encrypt it with a customer-managed key. An
   * alternative to `eventBusProps`.
   *
   * @default - a new bus encrypted with `encryptionKey`
   */
  readonly existingEventBus?: events.IEventBus;
  /**
   * Overrides of the new bus's props (e.g. `eventBusName`, `deadLetterQueue`). An alternative to `existingEventBus`.
   *
   * @default - none: `kmsKey` is `encryptionKey`
   */
  readonly eventBusProps?: Partial<events.EventBusProps>;
  /** Bundles of the handlers (patient-enrichment). */
  readonly handlerCode: HandlerCodeProvider;
  /** Customer-managed key for the table, bus, DLQs, pipe and logs. */
  readonly encryptionKey: kms.IKey;
  /**
   * The pipe's enrichment, instead of a new patient-enrichment function. It must behave as
   * `src/handlers/patient-enrichment.ts`; it is granted `sqs:SendMessage` on `unenrichableQueue` if it
   * has a role. An alternative to `enrichmentFunctionProps`.
   *
   * @default - a new patient-enrichment TributaryFunction (arm64, X-Ray, KMS, no reserved concurrency)
   */
  readonly existingEnrichmentFunction?: lambda.IFunction;
  /**
   * Overrides of the new enrichment function's `lambda.Function` props (e.g. `reservedConcurrentExecutions`).
   * An alternative to `existingEnrichmentFunction`.
   *
   * @default - none: timeout 30 seconds, 256 MiB, no reserved concurrency
   */
  readonly enrichmentFunctionProps?: Partial<lambda.FunctionProps>;
  /**
   * A pipe you manage from the stream through the enrichment to the bus; no pipe, pipe role or pipe log
   * group is created. An alternative to `pipeProps`.
   *
   * @default - a new pipe with the config's filter, batch size up to 10, the DLQ, bisect on failure, KMS, ERROR logs
   */
  readonly existingPipe?: pipes.CfnPipe;
  /**
   * Overrides of the new pipe's props (top-level fields replace the defaults). An alternative to `existingPipe`.
   *
   * @default - none
   */
  readonly pipeProps?: Partial<pipes.CfnPipeProps>;
  /**
   * Enrichment options (the config's `patientEnrichment`).
   *
   * @default - identifier system `urn:tributary:patient-id`, source `tributary.patients`, no run-time validation
   */
  readonly enrichmentOptions?: {
    readonly identifierSystem?: string;
    readonly source?: string;
    readonly validate?: boolean;
  };
  /**
   * Also write each FHIR Patient to HealthLake.
   *
   * @default - none (events only)
   */
  readonly healthLakeWriteThrough?: HealthLakeWriteThrough;
  /**
   * Pipe dead-letter queue.
   *
   * @default - a new KMS-encrypted, TLS-only queue (14 days)
   */
  readonly existingDeadLetterQueue?: sqs.IQueue;
  /**
   * Pipe retries before a batch goes to the DLQ.
   *
   * @default - the table's `pipe.maximumRetryAttempts`, else 10
   */
  readonly maximumRetryAttempts?: number;
  /**
   * Removal policy of the table, queues and log groups.
   *
   * @default RemovalPolicy.RETAIN
   */
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
  /** The new enrichment function; undefined with `existingEnrichmentFunction`. */
  public readonly enrichment?: TributaryFunction;
  /** The enrichment function in use. */
  public readonly enrichmentFunction: lambda.IFunction;
  public readonly eventBus: events.IEventBus;
  public readonly deadLetterQueue: sqs.IQueue;
  /** Records the enrichment Lambda could not map, with the reason (never dropped). */
  public readonly unenrichableQueue: sqs.IQueue;
  /** Metrics worth an alarm, by name. */
  public readonly alarmMetrics: Record<string, cloudwatch.IMetric>;

  public constructor(scope: Construct, id: string, props: PatientEnrichmentPipeProps) {
    super(scope, id);
    assertAlternatives(
      'PatientEnrichmentPipe',
      props,
      ['existingTable', 'tableProps'],
      ['existingEventBus', 'eventBusProps'],
      ['existingEnrichmentFunction', 'enrichmentFunctionProps'],
      ['existingPipe', 'pipeProps'],
    );
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
      props.existingEventBus ??
      new events.EventBus(this, 'Bus', {
        description: 'Tributary PatientChange events',
        kmsKey: key,
        ...props.eventBusProps,
      });
    this.deadLetterQueue = props.existingDeadLetterQueue ?? createDeadLetterQueue(this, 'PipeDlq', key, removalPolicy);
    // Records the enrichment cannot map (bad input) go here, so one bad record does not fail the batch.
    this.unenrichableQueue = createDeadLetterQueue(this, 'UnenrichableQueue', key, removalPolicy);

    if (!props.existingEnrichmentFunction) {
      this.enrichment = new TributaryFunction(this, 'Enrichment', {
        handlerName: 'patient-enrichment',
        code: props.handlerCode,
        encryptionKey: key,
        removalPolicy,
        timeout: Duration.seconds(30),
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
        ...(props.enrichmentFunctionProps ? { functionProps: props.enrichmentFunctionProps } : {}),
      });
      if (props.enrichmentOptions?.validate) this.enrichment.function.addLayers(this.fhirValidatorLayer(props));
    }
    this.enrichmentFunction = props.existingEnrichmentFunction ?? this.enrichment!.function;
    this.enrichmentFunction.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.unenrichableQueue.queueArn] }),
    );
    if (this.enrichmentFunction.role) grantKeyUse(key, this.enrichmentFunction.role, 'encrypt');
    if (props.healthLakeWriteThrough) {
      this.enrichmentFunction.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['healthlake:UpdateResource', 'healthlake:ReadResource', 'healthlake:DeleteResource'],
          resources: [props.healthLakeWriteThrough.datastoreArn],
        }),
      );
    }

    this.pipe =
      props.existingPipe ?? this.createPipe(props, streamArn, filterCriteria, { source, batchSize, removalPolicy });

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
      EnrichmentErrors: this.enrichmentFunction.metricErrors({ period: Duration.minutes(1), statistic: 'Sum' }),
    };
  }

  /** Pipe: stream -> filter -> enrichment -> bus; failed batches to the DLQ. */
  /**
   * `patientEnrichment.validate: true`: the FHIR validator (`@medplum/core` and ~38 MB of R4
   * definitions) is in no bundle; this layer holds it and the handler `require`s it via NODE_PATH.
   */
  private fhirValidatorLayer(props: PatientEnrichmentPipeProps): lambda.ILayerVersion {
    let code: lambda.Code | undefined;
    try {
      code = props.handlerCode.layer?.('fhir-validator');
    } catch (error) {
      throw new Error(`patientEnrichment.validate is true: ${(error as Error).message}`, { cause: error });
    }
    if (!code)
      throw new Error(
        'patientEnrichment.validate is true, but this handlerCode provider has no fhir-validator layer ' +
          '(@medplum/core + R4 definitions): use HandlerCode.fromDist() after `npm run build`, or set patientEnrichment.validate to false',
      );
    return new lambda.LayerVersion(this, 'FhirValidatorLayer', {
      code,
      // Plain JavaScript and JSON: any architecture, the Node lines Tributary supports.
      compatibleRuntimes: [lambda.Runtime.NODEJS_22_X, lambda.Runtime.NODEJS_24_X],
      description: 'Tributary: @medplum/core and FHIR R4 definitions for patientEnrichment.validate',
    });
  }

  private createPipe(
    props: PatientEnrichmentPipeProps,
    streamArn: string,
    filterCriteria: ReturnType<typeof pipeFilterCriteria>,
    options: { source: string; batchSize: number; removalPolicy: RemovalPolicy },
  ): pipes.CfnPipe {
    const stack = Stack.of(this);
    const key = props.encryptionKey;
    const config = props.table;
    const pipeConfig = pipeConfigOf(config);
    const { source, batchSize, removalPolicy } = options;
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
        resources: [this.enrichmentFunction.functionArn],
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

    const pipe = new pipes.CfnPipe(this, 'Pipe', {
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
      enrichment: this.enrichmentFunction.functionArn,
      target: this.eventBus.eventBusArn,
      targetParameters: {
        eventBridgeEventBusParameters: { detailType: PATIENT_CHANGE_DETAIL_TYPE, source },
      },
      kmsKeyIdentifier: key.keyArn,
      logConfiguration: { level: 'ERROR', cloudwatchLogsLogDestination: { logGroupArn: pipeLogs.logGroupArn } },
      ...props.pipeProps,
    });
    pipe.node.addDependency(pipeRole);
    return pipe;
  }
}
