import { Duration, RemovalPolicy, Size } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { HandlerCodeProvider } from './lambda/handler-code.js';
import { TributaryFunction } from './lambda/tributary-function.js';
import { acknowledge, lakePrefixAcknowledgements } from './nag-acknowledgements.js';
import { createDeadLetterQueue } from './shared/queues.js';

/** Props of {@link LakeViewsWriter}. Every optional prop documents its default. */
export interface LakeViewsWriterProps {
  /** The export state machine: its SUCCEEDED executions trigger the writer. */
  readonly stateMachine: sfn.IStateMachine;
  /** The run ledger table (read: the run's status and transactionTime). */
  readonly ledgerTable: dynamodb.ITable;
  /**
   * The lake: reads `fhir/`, `views/`, `changes/` and `current/`, writes `views/`, `_errors/views/` and `current/`.
   * Its S3 events must go to EventBridge (`eventBridgeEnabled`, as TributaryStack's lake) for `current/`.
   */
  readonly lakeBucket: s3.IBucket;
  /** The Tributary key (lake, ledger, logs, environment, DLQ). */
  readonly encryptionKey: kms.IKey;
  /** The update-views bundle and the `duckdb` layer (`HandlerCode.fromDist()` after `npm run build`). */
  readonly handlerCode: HandlerCodeProvider;
  /** The ViewDefinition files (validated paths, e.g. `config.views ?? DEFAULT_VIEW_FILES`), shipped in the asset. */
  readonly viewFiles: readonly string[];
  /**
   * Memory, MiB (1769 MB is one full vCPU; DuckDB runs one thread).
   *
   * @default 1769
   */
  readonly memorySize?: number;
  /**
   * Timeout.
   *
   * @default Duration.minutes(15)
   */
  readonly timeout?: Duration;
  /**
   * /tmp size: staging NDJSON and the Parquet file of the largest view of one run.
   *
   * @default Size.gibibytes(2)
   */
  readonly ephemeralStorageSize?: Size;
  /**
   * Removal policy of the log group and DLQ.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Overrides of the `lambda.Function` props, applied last.
   *
   * @default - none
   */
  readonly functionProps?: Partial<lambda.FunctionProps>;
}

/**
 * The views writer on AWS: an EventBridge rule on the export state machine's SUCCEEDED status runs the
 * `update-views` Lambda, which writes one Parquet delta per view under `views/<name>/run=<transactionTime>/` (the
 * local runtime's merge-on-read layout). DuckDB comes from the `duckdb` layer (the installed linux-x64 binding), so
 * the function is x86_64. A second rule sends the lake's S3 "Object Created" events under `changes/` to the same
 * function, which writes each change file's `current/<table>/` Parquet delta.
 *
 * @example
 * new LakeViewsWriter(this, 'Views', { stateMachine, ledgerTable, lakeBucket, encryptionKey, handlerCode, viewFiles });
 */
export class LakeViewsWriter extends Construct {
  public readonly updateViews: TributaryFunction;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly rule: events.Rule;
  /** S3 "Object Created" under `changes/` → the same function writes that file's `current/<table>/` delta. */
  public readonly changeFileRule: events.Rule;
  public readonly layer: lambda.LayerVersion;
  public readonly alarmMetrics: Record<string, cloudwatch.IMetric>;

  public constructor(scope: Construct, id: string, props: LakeViewsWriterProps) {
    super(scope, id);
    const key = props.encryptionKey;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const code = props.handlerCode.layer?.('duckdb');
    if (!code)
      throw new Error(
        'the views writer needs the duckdb layer: use HandlerCode.fromDist() after `npm run build` (HandlerCode.placeholder() in tests)',
      );
    this.layer = new lambda.LayerVersion(this, 'DuckDbLayer', {
      code,
      compatibleRuntimes: [lambda.Runtime.NODEJS_22_X, lambda.Runtime.NODEJS_24_X],
      // The native binding is the installed linux-x64 one (copied, never downloaded).
      compatibleArchitectures: [lambda.Architecture.X86_64],
      description: 'Tributary: @duckdb/node-api with the linux-x64 binding, for update-views',
    });
    // The config's ViewDefinitions beside the handler, in config order (the handler reads views/*.json sorted).
    const files = Object.fromEntries(
      props.viewFiles.map((file, index) => [
        `views/${String(index).padStart(3, '0')}-${basename(file)}`,
        readFileSync(file, 'utf8'),
      ]),
    );
    this.deadLetterQueue = createDeadLetterQueue(this, 'Dlq', key, removalPolicy);
    const lakeKey = props.lakeBucket.encryptionKey;
    this.updateViews = new TributaryFunction(this, 'UpdateViews', {
      handlerName: 'update-views',
      code: { code: (name) => props.handlerCode.code(name, files) },
      encryptionKey: key,
      removalPolicy,
      memorySize: props.memorySize ?? 1769,
      timeout: props.timeout ?? Duration.minutes(15),
      deadLetterQueue: this.deadLetterQueue,
      environment: {
        LAKE_BUCKET: props.lakeBucket.bucketName,
        LEDGER_TABLE: props.ledgerTable.tableName,
        ...(lakeKey ? { LAKE_KMS_KEY_ID: lakeKey.keyArn } : {}),
        // DuckDB's home (extensions, secrets) must be writable; /var/task is not.
        HOME: '/tmp',
      },
      functionProps: {
        architecture: lambda.Architecture.X86_64,
        ephemeralStorageSize: props.ephemeralStorageSize ?? Size.gibibytes(2),
        layers: [this.layer],
        ...props.functionProps,
      },
    });
    const fn = this.updateViews.function;
    const role = this.updateViews.role;
    const bucketArn = props.lakeBucket.bucketArn;
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [`${bucketArn}/fhir/*`, `${bucketArn}/views/*`, `${bucketArn}/changes/*`, `${bucketArn}/current/*`],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [bucketArn],
        conditions: { StringLike: { 's3:prefix': ['fhir/*', 'views/*', 'changes/*', 'current/*'] } },
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
        resources: [`${bucketArn}/views/*`, `${bucketArn}/_errors/views/*`, `${bucketArn}/current/*`],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
        resources: [...new Set([key.keyArn, ...(lakeKey ? [lakeKey.keyArn] : [])])],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({ actions: ['dynamodb:GetItem'], resources: [props.ledgerTable.tableArn] }),
    );
    acknowledge(
      role,
      lakePrefixAcknowledgements(props.lakeBucket, ['fhir/', 'views/', '_errors/views/', 'changes/', 'current/']),
    );

    this.rule = new events.Rule(this, 'RunSucceededRule', {
      description: 'Tributary: update the lake views after a successful export run',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: { status: ['SUCCEEDED'], stateMachineArn: [props.stateMachine.stateMachineArn] },
      },
      targets: [
        new targets.LambdaFunction(fn, {
          retryAttempts: 8,
          maxEventAge: Duration.hours(2),
          deadLetterQueue: this.deadLetterQueue,
        }),
      ],
    });
    // current/<table>/: each change file Firehose delivers gets its Parquet delta (the same function, by event source).
    this.changeFileRule = new events.Rule(this, 'ChangeFileCreatedRule', {
      description: 'Tributary: materialise current/<table>/ from each change file delivered under changes/',
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created'],
        detail: { bucket: { name: [props.lakeBucket.bucketName] }, object: { key: [{ prefix: 'changes/' }] } },
      },
      targets: [
        new targets.LambdaFunction(fn, {
          retryAttempts: 8,
          maxEventAge: Duration.hours(2),
          deadLetterQueue: this.deadLetterQueue,
        }),
      ],
    });
    this.alarmMetrics = {
      UpdateViewsErrors: this.updateViews.metricErrors(),
      UpdateViewsDlqDepth: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
    };
  }
}
