import { ArnFormat, CfnOutput, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { BackfillTableConfig } from '../../src/backfill/workflow-tasks.js';
import { DEFAULT_BACKFILL_EXPORT_PREFIX } from '../../src/backfill/workflow-tasks.js';
import { backfillWorkflowText, type BackfillWorkflowSubstitutions } from '../../src/backfill/workflow-definition.js';
import type { TableConfig } from '../../src/config/schema.js';
import type { HandlerCodeProvider } from './lambda/handler-code.js';
import { TributaryFunction } from './lambda/tributary-function.js';
import { acknowledge, bucketNagRef, lakePrefixAcknowledgements, nagRef } from './nag-acknowledgements.js';
import { grantKeyUse } from './shared/encryption.js';
import { bucketObjectsArn, grantLakeWrite } from './shared/grants.js';
import { createDeadLetterQueue } from './shared/queues.js';
import { pipeConfigOf } from './shared/stream-source.js';

/** A table the backfill may export, and the DLQ of its change pipe (watched for trimmed-data failures). */
export interface BackfillTable {
  /** Its config entry (name, keys, partitions, event time, TTL attribute). */
  readonly config: TableConfig;
  /** The DynamoDB table (point-in-time recovery must be on). */
  readonly table: dynamodb.ITable;
  /** The change pipe's DLQ. @default - none: no automatic repair for this table */
  readonly deadLetterQueue?: sqs.IQueue;
}

/** Props of {@link BackfillWorkflow}. Every optional prop documents its default. */
export interface BackfillWorkflowProps {
  /** Supplies the `backfill` and `backfill-trigger` bundles. */
  readonly handlerCode: HandlerCodeProvider;
  /** Encrypts the logs, the DLQ and the export objects; the lake, export bucket and bus use it too. */
  readonly encryptionKey: kms.IKey;
  /** The tables the workflow may export, with their pipes' DLQs. */
  readonly tables: readonly BackfillTable[];
  /** The lake (`changes/<table>/`, `_errors/backfill-<table>/`). */
  readonly lakeBucket: s3.IBucket;
  /** Where DynamoDB writes the exports (under {@link BackfillWorkflowProps.exportPrefix}). */
  readonly exportBucket: s3.IBucket;
  /** Bus for BackfillCompleted / BackfillFailed. */
  readonly eventBus: events.IEventBus;
  /**
   * Prefix of the exports and of the Map's result files in the export bucket.
   *
   * @default 'exports/dynamodb/' (inside the export bucket's expiring `exports/` staging prefix)
   */
  readonly exportPrefix?: string;
  /**
   * How often the pipes' DLQs are scanned for trimmed-data failures.
   *
   * @default events.Schedule.rate(Duration.minutes(5))
   */
  readonly scanSchedule?: events.Schedule;
  /**
   * Seconds between DescribeExport polls.
   *
   * @default 60
   */
  readonly pollSeconds?: number;
  /**
   * DescribeExport polls before the run fails with `Backfill.ExportTimedOut`.
   *
   * @default 360 (6 hours at the default poll interval)
   */
  readonly maxPolls?: number;
  /**
   * Removal policy of the log groups and the trigger's DLQ.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** The stack output holding the state machine's ARN (what `tributary backfill --aws` starts). */
export const BACKFILL_STATE_MACHINE_OUTPUT = 'BackfillStateMachineArn';

/**
 * The backfill/repair workflow on AWS: the Standard state machine of `src/backfill/workflow.asl.json` (the same ASL the
 * local executor runs), the `backfill` Lambda it invokes, and the `backfill-trigger` Lambda that a schedule runs to
 * start a repair when a change pipe's DLQ holds a trimmed-data failure.
 *
 * @example
 * new BackfillWorkflow(this, 'Backfill', { handlerCode, encryptionKey: key, tables, lakeBucket, exportBucket, eventBus });
 */
export class BackfillWorkflow extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  public readonly backfill: TributaryFunction;
  public readonly trigger: TributaryFunction;
  /** Async-invocation DLQ of the trigger. */
  public readonly triggerDeadLetterQueue: sqs.Queue;
  public readonly scanRule: events.Rule;
  public readonly alarmMetrics: Record<string, cloudwatch.IMetric>;

  public constructor(scope: Construct, id: string, props: BackfillWorkflowProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const key = props.encryptionKey;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const exportPrefix = props.exportPrefix ?? DEFAULT_BACKFILL_EXPORT_PREFIX;
    const stateMachineName = `${stack.stackName}-${id}`;
    const arnOf = (resource: string, resourceName: string) =>
      stack.formatArn({ service: 'states', resource, resourceName, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    const stateMachineArn = arnOf('stateMachine', stateMachineName);

    const tables: BackfillTableConfig[] = props.tables.map(({ config, table }) => {
      const pipe = pipeConfigOf(config);
      return {
        name: config.name,
        tableName: table.tableName,
        tableArn: table.tableArn,
        keyAttributes: [config.partitionKey, ...(config.sortKey ? [config.sortKey] : [])],
        partitionBy: [...pipe.partitionBy],
        ...(pipe.eventTime ? { eventTime: pipe.eventTime } : {}),
        ...(config.ttlAttribute ? { ttlAttribute: config.ttlAttribute } : {}),
      };
    });

    // The workflow's Lambda steps: plan (DescribeContinuousBackups), land (read the export, write the lake), summarize.
    this.backfill = new TributaryFunction(this, 'Backfill', {
      handlerName: 'backfill',
      code: props.handlerCode,
      encryptionKey: key,
      removalPolicy,
      memorySize: 1024,
      timeout: Duration.minutes(15),
      environment: {
        BACKFILL_TABLES: stack.toJsonString(tables),
        EXPORT_BUCKET: props.exportBucket.bucketName,
        EXPORT_PREFIX: exportPrefix,
        EXPORT_KMS_KEY_ID: key.keyArn,
        LAKE_BUCKET: props.lakeBucket.bucketName,
        LAKE_KMS_KEY_ID: key.keyArn,
        POLL_SECONDS: String(props.pollSeconds ?? 60),
        MAX_POLLS: String(props.maxPolls ?? 360),
      },
    });
    const backfillRole = this.backfill.role;
    backfillRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:DescribeContinuousBackups'],
        resources: props.tables.map(({ table }) => table.tableArn),
      }),
    );
    backfillRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [bucketObjectsArn(props.exportBucket, exportPrefix)],
      }),
    );
    const lakePrefixes = props.tables.flatMap(({ config }) => [
      `changes/${config.name}/`,
      `_errors/backfill-${config.name}/`,
    ]);
    grantLakeWrite(props.lakeBucket, backfillRole, lakePrefixes);
    grantKeyUse(key, backfillRole, 'encrypt');

    // The state machine: the committed ASL, with the function and bus substituted.
    const logGroup = new logs.LogGroup(this, 'WorkflowLogs', {
      encryptionKey: key,
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy,
    });
    const role = new iam.Role(this, 'WorkflowRole', {
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: 'Tributary backfill/repair state machine',
    });
    const substitutions: BackfillWorkflowSubstitutions = {
      BackfillFunctionArn: this.backfill.function.functionArn,
      EventBusName: props.eventBus.eventBusName,
    };
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromString(backfillWorkflowText()),
      definitionSubstitutions: substitutions,
      // Long exports and chained windows: a year is the Standard maximum; the poll limit bounds each export.
      timeout: Duration.days(7),
      role,
      tracingEnabled: true,
      // ALL state events, but never execution data.
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      removalPolicy,
    });
    role.addToPolicy(
      new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [this.backfill.function.functionArn] }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:ExportTableToPointInTime'],
        resources: props.tables.map(({ table }) => table.tableArn),
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:DescribeExport'],
        resources: props.tables.map(({ table }) => `${table.tableArn}/export/*`),
      }),
    );
    // The export writes under the prefix (DynamoDB writes as the caller); the ItemReader reads the manifest there, and
    // the ResultWriter writes the Map's results there.
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject', 's3:PutObjectAcl', 's3:AbortMultipartUpload', 's3:GetObject'],
        resources: [bucketObjectsArn(props.exportBucket, exportPrefix)],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({ actions: ['events:PutEvents'], resources: [props.eventBus.eventBusArn] }),
    );
    // Distributed Map: child executions of this state machine.
    role.addToPolicy(new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: [stateMachineArn] }));
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['states:DescribeExecution', 'states:StopExecution'],
        resources: [arnOf('execution', `${stateMachineName}:*`), arnOf('execution', `${stateMachineName}/*:*`)],
      }),
    );
    // The export and the Map's ResultWriter write SSE-KMS objects; the ItemReader and the logs read them.
    grantKeyUse(key, role, 'encrypt');
    new CfnOutput(stack, BACKFILL_STATE_MACHINE_OUTPUT, {
      value: this.stateMachine.stateMachineArn,
      description: 'Tributary backfill/repair state machine (tributary backfill --aws starts it)',
    });

    // The trigger: peeks at the pipes' DLQs on a schedule; a trimmed-data failure starts a repair.
    this.triggerDeadLetterQueue = createDeadLetterQueue(this, 'TriggerDlq', key, removalPolicy);
    const watched = props.tables.filter((t) => t.deadLetterQueue !== undefined);
    this.trigger = new TributaryFunction(this, 'Trigger', {
      handlerName: 'backfill-trigger',
      code: props.handlerCode,
      encryptionKey: key,
      removalPolicy,
      timeout: Duration.minutes(5),
      deadLetterQueue: this.triggerDeadLetterQueue,
      environment: {
        BACKFILL_DLQS: stack.toJsonString(
          watched.map((t) => ({ queueUrl: t.deadLetterQueue!.queueUrl, table: t.config.name })),
        ),
        BACKFILL_STATE_MACHINE_ARN: this.stateMachine.stateMachineArn,
      },
    });
    if (watched.length > 0)
      this.trigger.role.addToPolicy(
        new iam.PolicyStatement({
          actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility'],
          resources: watched.map((t) => t.deadLetterQueue!.queueArn),
        }),
      );
    this.trigger.role.addToPolicy(
      new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: [this.stateMachine.stateMachineArn] }),
    );
    grantKeyUse(key, this.trigger.role, 'decrypt');
    this.scanRule = new events.Rule(this, 'ScanRule', {
      description: 'Tributary: scan the change pipes DLQs for trimmed-data failures and start repairs',
      schedule: props.scanSchedule ?? events.Schedule.rate(Duration.minutes(5)),
      targets: [
        new targets.LambdaFunction(this.trigger.function, {
          retryAttempts: 2,
          maxEventAge: Duration.minutes(10),
          deadLetterQueue: this.triggerDeadLetterQueue,
        }),
      ],
    });

    this.alarmMetrics = {
      ExecutionsFailed: this.stateMachine.metricFailed({ period: Duration.minutes(5), statistic: 'Sum' }),
      ExecutionsTimedOut: this.stateMachine.metricTimedOut({ period: Duration.minutes(5), statistic: 'Sum' }),
      BackfillErrors: this.backfill.function.metricErrors({ period: Duration.minutes(1), statistic: 'Sum' }),
      TriggerErrors: this.trigger.function.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      TriggerDlqDepth: this.triggerDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
    };

    // cdk-nag: each wildcard is an object prefix or the executions of this state machine.
    const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
    const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
    const exportObjects = `AwsSolutions-IAM5[Resource::${bucketNagRef(props.exportBucket)}/${exportPrefix}*]`;
    acknowledge(backfillRole, {
      [exportObjects]:
        'Export data files are named by DynamoDB per export; reads are scoped to the backfill export prefix.',
      ...lakePrefixAcknowledgements(props.lakeBucket, lakePrefixes),
    });
    const exportsOf = Object.fromEntries(
      props.tables.map(({ table }) => [
        `AwsSolutions-IAM5[Resource::${tableNagRef(table)}/export/*]`,
        'Export ids are generated by DynamoDB per export; DescribeExport is scoped to the exports of this table.',
      ]),
    );
    acknowledge(role, {
      [exportObjects]:
        'DynamoDB names the export objects (AWSDynamoDB/<export id>/…) and the Map its result files; writes and reads are scoped to the backfill export prefix.',
      ...exportsOf,
      [`AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:${region}:${account}:execution:${stateMachineName}:*]`]:
        'Execution names are generated per run; scoped to executions of this one state machine.',
      [`AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:${region}:${account}:execution:${stateMachineName}/*:*]`]:
        'Distributed Map child executions of this state machine only (names generated by Step Functions).',
      'AwsSolutions-IAM5[Resource::*]':
        'X-Ray tracing of the state machine: xray:PutTraceSegments/GetSamplingRules support no resource-level permissions.',
    });
  }
}

/** How cdk-nag renders a table's ARN in a finding id: `<LogicalId.Arn>` for a table created here, else the ARN. */
function tableNagRef(table: dynamodb.ITable): string {
  const element = table.node.defaultChild;
  return element ? nagRef(table) : table.tableArn;
}
