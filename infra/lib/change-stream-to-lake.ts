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

/** Props of {@link ChangeStreamToLake}. Every default is listed. */
export interface ChangeStreamToLakeProps {
  /** The table's entry in the Tributary config: name, keys, stream view, TTL and `pipe` (filter, partitions, batching, buffering). */
  readonly table: TableConfig;
  /** Capture this existing table (import with `Table.fromTableAttributes({ tableStreamArn, encryptionKey })`). Default: create it from `table` and `tableProps`. */
  readonly existingTable?: dynamodb.ITable;
  /** Overrides for the new table. Default: on-demand, CMK encryption, PITR, stream from `table.stream`, deletion protection when retained. */
  readonly tableProps?: Partial<dynamodb.TableProps>;
  /** Lake bucket the delivery stream writes `changes/<table>/…` to. */
  readonly lakeBucket: s3.IBucket;
  /** Bundles of the handlers (firehose-transform). */
  readonly handlerCode: HandlerCodeProvider;
  /** Customer-managed key for the table, stream, DLQ, Firehose, pipe and logs. */
  readonly encryptionKey: kms.IKey;
  /** Pipe enrichment Lambda. Default: none. */
  readonly enrichmentFunction?: lambda.IFunction;
  /** Pipe dead-letter queue. Default: a new KMS-encrypted queue. */
  readonly existingDeadLetterQueue?: sqs.IQueue;
  /** Pipe retries before a batch goes to the DLQ. Default: the table's `pipe.maximumRetryAttempts`, else 10. */
  readonly maximumRetryAttempts?: number;
  /** Default: `RemovalPolicy.RETAIN` (table, DLQ, log groups). */
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
  public readonly pipe: pipes.CfnPipe;
  public readonly deliveryStream: firehose.CfnDeliveryStream;
  public readonly transform: TributaryFunction;
  public readonly deadLetterQueue: sqs.IQueue;
  /** Metrics worth an alarm, by name. */
  public readonly alarmMetrics: Record<string, cloudwatch.IMetric>;

  public constructor(scope: Construct, id: string, props: ChangeStreamToLakeProps) {
    super(scope, id);
    const stack = Stack.of(this);
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

    this.transform = new TributaryFunction(this, 'Transform', {
      handlerName: 'firehose-transform',
      code: props.handlerCode,
      encryptionKey: key,
      removalPolicy,
      timeout: Duration.minutes(1),
      reservedConcurrentExecutions: 10,
      environment: {
        TRIBUTARY_TABLE: config.name,
        TRIBUTARY_PARTITION_BY: pipeConfig.partitionBy.join(','),
        ...(pipeConfig.eventTime ? { TRIBUTARY_EVENT_TIME: JSON.stringify(pipeConfig.eventTime) } : {}),
        ...(config.ttlAttribute ? { TRIBUTARY_TTL_ATTRIBUTE: config.ttlAttribute } : {}),
      },
    });

    // Firehose: dynamic partitioning on the transform's partition keys, SSE-KMS, GZIP NDJSON.
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
        resources: [this.transform.function.functionArn],
      }),
    );
    firehoseRole.addToPolicy(
      new iam.PolicyStatement({ actions: ['logs:PutLogEvents'], resources: [firehoseLogs.logGroupArn] }),
    );
    grantKeyUse(key, firehoseRole, 'encrypt');
    if (props.lakeBucket.encryptionKey && props.lakeBucket.encryptionKey !== key)
      grantKeyUse(props.lakeBucket.encryptionKey, firehoseRole, 'encrypt');

    const buffering = firehoseBuffering(pipeConfig);
    this.deliveryStream = new firehose.CfnDeliveryStream(this, 'DeliveryStream', {
      deliveryStreamType: 'DirectPut',
      deliveryStreamEncryptionConfigurationInput: { keyType: 'CUSTOMER_MANAGED_CMK', keyArn: key.keyArn },
      extendedS3DestinationConfiguration: {
        bucketArn: props.lakeBucket.bucketArn,
        roleArn: firehoseRole.roleArn,
        prefix: firehosePrefix(config.name, pipeConfig.partitionBy),
        errorOutputPrefix: firehoseErrorPrefix(config.name),
        bufferingHints: buffering,
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
                { parameterName: 'LambdaArn', parameterValue: this.transform.function.functionArn },
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
      },
    });
    this.deliveryStream.node.addDependency(firehoseRole);

    // Pipe: stream -> filter -> (enrichment) -> Firehose; failed batches to the DLQ.
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
        resources: [this.deliveryStream.attrArn],
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

    this.pipe = new pipes.CfnPipe(this, 'Pipe', {
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
      target: this.deliveryStream.attrArn,
      kmsKeyIdentifier: key.keyArn,
      logConfiguration: { level: 'ERROR', cloudwatchLogsLogDestination: { logGroupArn: pipeLogs.logGroupArn } },
    });
    this.pipe.node.addDependency(pipeRole);

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
        dimensionsMap: { DeliveryStreamName: this.deliveryStream.ref },
        period: Duration.minutes(5),
        statistic,
      });
    acknowledge(
      firehoseRole,
      lakePrefixAcknowledgements(props.lakeBucket, [
        lakeLayout.changes(config.name),
        lakeLayout.errors(`changes-${config.name}`),
      ]),
    );

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
      TransformErrors: this.transform.metricErrors(),
    };
  }
}
