import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as pipes from 'aws-cdk-lib/aws-pipes';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { PipeConfig, TableConfig } from '../../src/config/schema.js';
import { lakeLayout, sanitiseSegment } from '../../src/lake/layout.js';
import type { HandlerCodeProvider } from './lambda/handler-code.js';
import { TributaryFunction } from './lambda/tributary-function.js';
import { grantKeyUse } from './shared/encryption.js';
import { grantLakeWrite } from './shared/grants.js';
import { createDeadLetterQueue } from './shared/queues.js';
import { acknowledge, lakePrefixAcknowledgements } from './nag-acknowledgements.js';
import { assertAlternatives } from './shared/props.js';
import { pipeFilterCriteria, pipeConfigOf, streamSourceGrants, createStreamTable } from './shared/stream-source.js';

/** Firehose requires at least 64 MiB of buffer when dynamic partitioning is on. */
export const DYNAMIC_PARTITIONING_MIN_BUFFER_MIB = 64;
/** Firehose buffer interval bounds with dynamic partitioning, seconds. */
export const FIREHOSE_INTERVAL_BOUNDS = { min: 60, max: 900 } as const;
/** Largest pipe batch a Firehose target accepts (PutRecordBatch). */
export const FIREHOSE_MAX_BATCH = 500;

/**
 * Firehose S3 prefix for a change table: `changes/<table>/` then `key=!{partitionKeyFromLambda:key}/`
 * for each configured partition key (the transform Lambda returns every key, time parts included).
 *
 * @example
 * firehosePrefix('visits', ['siteId', 'year']) // 'changes/visits/siteId=!{partitionKeyFromLambda:siteId}/year=!{partitionKeyFromLambda:year}/'
 */
export function firehosePrefix(table: string, partitionBy: readonly string[]): string {
  return (
    lakeLayout.changes(table) +
    partitionBy.map((key) => `${sanitiseSegment(key)}=!{partitionKeyFromLambda:${key}}/`).join('')
  );
}

/**
 * Firehose error output prefix for a change table, under `_errors/changes-<table>/`.
 *
 * @example
 * firehoseErrorPrefix('visits') // '_errors/changes-visits/!{firehose:error-output-type}/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/'
 */
export function firehoseErrorPrefix(table: string): string {
  return `${lakeLayout.errors(`changes-${table}`)}!{firehose:error-output-type}/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/`;
}

/**
 * Firehose buffering from the config: `flushMiB` is raised to 64 MiB (the dynamic-partitioning
 * minimum) and `flushSeconds` is clamped to 60-900 s. A small config buffer therefore flushes by time.
 *
 * @example
 * firehoseBuffering({ flushSeconds: 2, flushMiB: 5 }) // { intervalInSeconds: 60, sizeInMBs: 64 }
 */
export function firehoseBuffering(pipe: Pick<PipeConfig, 'flushSeconds' | 'flushMiB'>): {
  intervalInSeconds: number;
  sizeInMBs: number;
} {
  return {
    intervalInSeconds: Math.min(
      FIREHOSE_INTERVAL_BOUNDS.max,
      Math.max(FIREHOSE_INTERVAL_BOUNDS.min, Math.round(pipe.flushSeconds)),
    ),
    sizeInMBs: Math.min(128, Math.max(DYNAMIC_PARTITIONING_MIN_BUFFER_MIB, Math.ceil(pipe.flushMiB))),
  };
}

/** Props of {@link ChangeStreamToLake}. Every optional prop documents its default; `existingX` and `xProps` are alternatives. */
export interface ChangeStreamToLakeProps {
  /** The table's entry in the Tributary config: name, keys, stream view, TTL and `pipe` (filter, partitions, batching, buffering). */
  readonly table: TableConfig;
  /**
   * Capture this existing table (import with `Table.fromTableAttributes({ tableStreamArn, encryptionKey })`).
   * An alternative to `tableProps`.
   *
   * @default - a new table from `table` and `tableProps`
   */
  readonly existingTable?: dynamodb.ITable;
  /**
   * Overrides for the new table. An alternative to `existingTable`.
   *
   * @default - on-demand, CMK encryption, PITR, stream from `table.stream`, deletion protection when retained
   */
  readonly tableProps?: Partial<dynamodb.TableProps>;
  /** Lake bucket the delivery stream writes `changes/<table>/…` to. */
  readonly lakeBucket: s3.IBucket;
  /** Bundles of the handlers (firehose-transform). */
  readonly handlerCode: HandlerCodeProvider;
  /** Customer-managed key for the table, stream, DLQ, Firehose, pipe and logs. */
  readonly encryptionKey: kms.IKey;
  /**
   * The Firehose transform (record → partition keys) of the new delivery stream, instead of a new
   * firehose-transform function. It must behave as `src/handlers/firehose-transform.ts`. An alternative
   * to `transformFunctionProps`.
   *
   * @default - a new firehose-transform TributaryFunction (arm64, X-Ray, KMS, no reserved concurrency)
   */
  readonly existingTransformFunction?: lambda.IFunction;
  /**
   * Overrides of the new transform function's `lambda.Function` props (e.g. `reservedConcurrentExecutions`).
   * An alternative to `existingTransformFunction`.
   *
   * @default - none: timeout 1 minute, 256 MiB, no reserved concurrency
   */
  readonly transformFunctionProps?: Partial<lambda.FunctionProps>;
  /**
   * Deliver to this existing Firehose stream instead of a new one (no transform, role or log group is
   * created). It must partition as `firehosePrefix` does. An alternative to `deliveryStreamProps`.
   *
   * @default - a new DirectPut stream: dynamic partitioning, SSE-KMS, GZIP NDJSON, `_errors/changes-<table>/`
   */
  readonly existingDeliveryStream?: firehose.IDeliveryStream;
  /**
   * Overrides of the new delivery stream's props; `extendedS3DestinationConfiguration` is merged one
   * level deep (e.g. `{ extendedS3DestinationConfiguration: { bufferingHints } }`). An alternative to
   * `existingDeliveryStream`.
   *
   * @default - none: buffering from `pipe.flushSeconds`/`pipe.flushMiB` (see `firehoseBuffering`)
   */
  readonly deliveryStreamProps?: Partial<firehose.CfnDeliveryStreamProps>;
  /**
   * A pipe you manage from the stream to the delivery stream; no pipe, pipe role or pipe log group is
   * created. An alternative to `pipeProps`.
   *
   * @default - a new pipe with the config's filter and batching, the DLQ, bisect on failure, KMS, ERROR logs
   */
  readonly existingPipe?: pipes.CfnPipe;
  /**
   * Overrides of the new pipe's props (top-level fields replace the defaults, e.g. `name`, `desiredState`).
   * An alternative to `existingPipe`.
   *
   * @default - none
   */
  readonly pipeProps?: Partial<pipes.CfnPipeProps>;
  /**
   * Pipe enrichment Lambda.
   *
   * @default - none
   */
  readonly enrichmentFunction?: lambda.IFunction;
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
   * Removal policy of the table, DLQ and log groups.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * DynamoDB change stream -> EventBridge Pipe (filter, optional enrichment, DLQ) -> Firehose with
 * dynamic partitioning (partition keys from the firehose-transform Lambda) -> the S3 lake
 * (SYSTEM.md §1). Filter and partitions come from the same config the local runtime reads.
 *
 * @example
 * new ChangeStreamToLake(this, 'Visits', { table: config.tables[0], lakeBucket, handlerCode, encryptionKey: key });
 */
export class ChangeStreamToLake extends Construct {
  public readonly table: dynamodb.ITable;
  /** The pipe (new, or `existingPipe`). */
  public readonly pipe: pipes.CfnPipe;
  /** The delivery stream's ARN and name (new, or `existingDeliveryStream`). */
  public readonly deliveryStreamArn: string;
  public readonly deliveryStreamName: string;
  /** The new delivery stream; undefined with `existingDeliveryStream`. */
  public readonly deliveryStream?: firehose.CfnDeliveryStream;
  /** The new transform; undefined with `existingTransformFunction` or `existingDeliveryStream`. */
  public readonly transform?: TributaryFunction;
  /** The transform in use; undefined with `existingDeliveryStream`. */
  public readonly transformFunction?: lambda.IFunction;
  public readonly deadLetterQueue: sqs.IQueue;
  /** Metrics worth an alarm, by name. */
  public readonly alarmMetrics: Record<string, cloudwatch.IMetric>;

  public constructor(scope: Construct, id: string, props: ChangeStreamToLakeProps) {
    super(scope, id);
    assertAlternatives(
      'ChangeStreamToLake',
      props,
      ['existingTable', 'tableProps'],
      ['existingTransformFunction', 'transformFunctionProps'],
      ['existingDeliveryStream', 'deliveryStreamProps'],
      ['existingPipe', 'pipeProps'],
    );
    const key = props.encryptionKey;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const config = props.table;
    const pipeConfig = pipeConfigOf(config);
    if (pipeConfig.batchSize > FIREHOSE_MAX_BATCH) {
      throw new Error(
        `table ${config.name}: pipe.batchSize ${pipeConfig.batchSize} exceeds ${FIREHOSE_MAX_BATCH}, the Firehose target's batch limit`,
      );
    }
    const filterCriteria = pipeFilterCriteria(pipeConfig.filter, `tables.${config.name}.pipe.filter`);

    this.table = props.existingTable ?? createStreamTable(this, 'Table', config, key, removalPolicy, props.tableProps);
    const streamArn = this.table.tableStreamArn;
    if (!streamArn)
      throw new Error(
        `table ${config.name}: an existing table needs its stream ARN (Table.fromTableAttributes({ tableStreamArn }))`,
      );

    this.deadLetterQueue = props.existingDeadLetterQueue ?? createDeadLetterQueue(this, 'PipeDlq', key, removalPolicy);

    if (props.existingDeliveryStream) {
      this.deliveryStreamArn = props.existingDeliveryStream.deliveryStreamArn;
      this.deliveryStreamName = props.existingDeliveryStream.deliveryStreamName;
    } else {
      if (!props.existingTransformFunction) {
        this.transform = new TributaryFunction(this, 'Transform', {
          handlerName: 'firehose-transform',
          code: props.handlerCode,
          encryptionKey: key,
          removalPolicy,
          timeout: Duration.minutes(1),
          environment: {
            TRIBUTARY_TABLE: config.name,
            TRIBUTARY_PARTITION_BY: pipeConfig.partitionBy.join(','),
            ...(pipeConfig.eventTime ? { TRIBUTARY_EVENT_TIME: JSON.stringify(pipeConfig.eventTime) } : {}),
            ...(config.ttlAttribute ? { TRIBUTARY_TTL_ATTRIBUTE: config.ttlAttribute } : {}),
          },
          ...(props.transformFunctionProps ? { functionProps: props.transformFunctionProps } : {}),
        });
      }
      const transformFunction = props.existingTransformFunction ?? this.transform!.function;
      this.transformFunction = transformFunction;
      const deliveryStream = this.createDeliveryStream(props, transformFunction);
      this.deliveryStream = deliveryStream;
      this.deliveryStreamArn = deliveryStream.attrArn;
      this.deliveryStreamName = deliveryStream.ref;
    }

    this.pipe = props.existingPipe ?? this.createPipe(props, streamArn, filterCriteria);

    const pipeMetric = (metricName: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/EventBridge/Pipes',
        metricName,
        dimensionsMap: { PipeName: this.pipe.ref },
        period: Duration.minutes(5),
        statistic: 'Sum',
      });
    const firehoseMetric = (metricName: string, statistic: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/Firehose',
        metricName,
        dimensionsMap: { DeliveryStreamName: this.deliveryStreamName },
        period: Duration.minutes(5),
        statistic,
      });

    this.alarmMetrics = {
      PipeExecutionFailed: pipeMetric('ExecutionFailed'),
      PipeDlqDepth: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
      // Success ratios below 1 mean failed deliveries/transforms; inverted in the alarm.
      DeliveryToS3Failed: new cloudwatch.MathExpression({
        expression: 'IF(FILL(m, 1) < 1, 1, 0)',
        usingMetrics: { m: firehoseMetric('DeliveryToS3.Success', 'Minimum') },
        period: Duration.minutes(5),
      }),
      TransformFailed: new cloudwatch.MathExpression({
        expression: 'IF(FILL(m, 1) < 1, 1, 0)',
        usingMetrics: { m: firehoseMetric('ExecuteProcessing.Success', 'Minimum') },
        period: Duration.minutes(5),
      }),
      PartitionCountExceeded: firehoseMetric('PartitionCountExceeded', 'Maximum'),
      ...(this.transformFunction
        ? {
            TransformErrors: this.transformFunction.metricErrors({ period: Duration.minutes(1), statistic: 'Sum' }),
          }
        : {}),
    };
  }

  /** Firehose: dynamic partitioning on the transform's partition keys, SSE-KMS, GZIP NDJSON. */
  private createDeliveryStream(
    props: ChangeStreamToLakeProps,
    transformFunction: lambda.IFunction,
  ): firehose.CfnDeliveryStream {
    const stack = Stack.of(this);
    const key = props.encryptionKey;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const config = props.table;
    const pipeConfig = pipeConfigOf(config);
    const firehoseLogs = new logs.LogGroup(this, 'DeliveryLogs', {
      encryptionKey: key,
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy,
    });
    const firehoseLogStream = new logs.LogStream(this, 'DeliveryLogStream', { logGroup: firehoseLogs, removalPolicy });
    const firehoseRole = new iam.Role(this, 'DeliveryRole', {
      assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: `Tributary: Firehose delivers ${config.name} changes to the lake`,
    });
    grantLakeWrite(props.lakeBucket, firehoseRole, [
      lakeLayout.changes(config.name),
      lakeLayout.errors(`changes-${config.name}`),
    ]);
    firehoseRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetBucketLocation', 's3:ListBucketMultipartUploads'],
        resources: [props.lakeBucket.bucketArn],
      }),
    );
    firehoseRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['lambda:InvokeFunction', 'lambda:GetFunctionConfiguration'],
        resources: [transformFunction.functionArn],
      }),
    );
    firehoseRole.addToPolicy(
      new iam.PolicyStatement({ actions: ['logs:PutLogEvents'], resources: [firehoseLogs.logGroupArn] }),
    );
    grantKeyUse(key, firehoseRole, 'encrypt');
    if (props.lakeBucket.encryptionKey && props.lakeBucket.encryptionKey !== key)
      grantKeyUse(props.lakeBucket.encryptionKey, firehoseRole, 'encrypt');

    const destination: firehose.CfnDeliveryStream.ExtendedS3DestinationConfigurationProperty = {
      bucketArn: props.lakeBucket.bucketArn,
      roleArn: firehoseRole.roleArn,
      prefix: firehosePrefix(config.name, pipeConfig.partitionBy),
      errorOutputPrefix: firehoseErrorPrefix(config.name),
      bufferingHints: firehoseBuffering(pipeConfig),
      compressionFormat: 'GZIP',
      fileExtension: '.ndjson.gz',
      encryptionConfiguration: {
        kmsEncryptionConfig: { awskmsKeyArn: (props.lakeBucket.encryptionKey ?? key).keyArn },
      },
      dynamicPartitioningConfiguration: { enabled: true, retryOptions: { durationInSeconds: 300 } },
      processingConfiguration: {
        enabled: true,
        processors: [
          {
            type: 'Lambda',
            parameters: [
              { parameterName: 'LambdaArn', parameterValue: transformFunction.functionArn },
              { parameterName: 'NumberOfRetries', parameterValue: '3' },
              { parameterName: 'BufferSizeInMBs', parameterValue: '1' },
              { parameterName: 'BufferIntervalInSeconds', parameterValue: '60' },
            ],
          },
        ],
      },
      cloudWatchLoggingOptions: {
        enabled: true,
        logGroupName: firehoseLogs.logGroupName,
        logStreamName: firehoseLogStream.logStreamName,
      },
    };
    const overrides = props.deliveryStreamProps ?? {};
    const deliveryStream = new firehose.CfnDeliveryStream(this, 'DeliveryStream', {
      deliveryStreamType: 'DirectPut',
      deliveryStreamEncryptionConfigurationInput: { keyType: 'CUSTOMER_MANAGED_CMK', keyArn: key.keyArn },
      ...overrides,
      extendedS3DestinationConfiguration: {
        ...destination,
        ...(overrides.extendedS3DestinationConfiguration as
          Partial<firehose.CfnDeliveryStream.ExtendedS3DestinationConfigurationProperty> | undefined),
      },
    });
    deliveryStream.node.addDependency(firehoseRole);
    acknowledge(
      firehoseRole,
      lakePrefixAcknowledgements(props.lakeBucket, [
        lakeLayout.changes(config.name),
        lakeLayout.errors(`changes-${config.name}`),
      ]),
    );
    return deliveryStream;
  }

  /** Pipe: stream -> filter -> (enrichment) -> Firehose; failed batches to the DLQ. */
  private createPipe(
    props: ChangeStreamToLakeProps,
    streamArn: string,
    filterCriteria: ReturnType<typeof pipeFilterCriteria>,
  ): pipes.CfnPipe {
    const stack = Stack.of(this);
    const key = props.encryptionKey;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const config = props.table;
    const pipeConfig = pipeConfigOf(config);
    const pipeLogs = new logs.LogGroup(this, 'PipeLogs', {
      encryptionKey: key,
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy,
    });
    const pipeRole = new iam.Role(this, 'PipeRole', {
      assumedBy: new iam.ServicePrincipal('pipes.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: `Tributary: pipe from the ${config.name} stream to Firehose`,
    });
    streamSourceGrants(pipeRole, streamArn, this.table.encryptionKey);
    pipeRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['firehose:PutRecord', 'firehose:PutRecordBatch'],
        resources: [this.deliveryStreamArn],
      }),
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
    if (props.enrichmentFunction) {
      pipeRole.addToPolicy(
        new iam.PolicyStatement({
          actions: ['lambda:InvokeFunction'],
          resources: [props.enrichmentFunction.functionArn],
        }),
      );
    }
    grantKeyUse(key, pipeRole, 'encrypt');

    const pipe = new pipes.CfnPipe(this, 'Pipe', {
      description: `Tributary: ${config.name} changes to the lake`,
      roleArn: pipeRole.roleArn,
      source: streamArn,
      sourceParameters: {
        dynamoDbStreamParameters: {
          startingPosition: pipeConfig.startingPosition,
          batchSize: pipeConfig.batchSize,
          maximumBatchingWindowInSeconds: Math.round(pipeConfig.batchWindowSeconds),
          deadLetterConfig: { arn: this.deadLetterQueue.queueArn },
          maximumRetryAttempts: props.maximumRetryAttempts ?? pipeConfig.maximumRetryAttempts ?? 10,
          onPartialBatchItemFailure: 'AUTOMATIC_BISECT',
        },
        ...(filterCriteria ? { filterCriteria } : {}),
      },
      ...(props.enrichmentFunction ? { enrichment: props.enrichmentFunction.functionArn } : {}),
      target: this.deliveryStreamArn,
      kmsKeyIdentifier: key.keyArn,
      logConfiguration: { level: 'ERROR', cloudwatchLogsLogDestination: { logGroupArn: pipeLogs.logGroupArn } },
      ...props.pipeProps,
    });
    pipe.node.addDependency(pipeRole);
    return pipe;
  }
}
