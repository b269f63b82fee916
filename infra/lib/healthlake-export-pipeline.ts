import {
  leaseSecondsOf,
  parseExportWorkflowConfig,
  type ExportWorkflowConfigInput,
} from '../../src/fhir-export/workflow-config.js';
import { Annotations, ArnFormat, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as healthlake from 'aws-cdk-lib/aws-healthlake';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as lambdaEvents from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { buildExportWorkflowDefinition } from './export-workflow/definition.js';
import type { HandlerCodeProvider } from './lambda/handler-code.js';
import { TributaryFunction } from './lambda/tributary-function.js';
import { grantKeyUse } from './shared/encryption.js';
import { createDeadLetterQueue, QueueWithDlq } from './shared/queues.js';
import {
  acknowledge,
  bucketNagRef,
  functionNagRef,
  lakePrefixAcknowledgements,
  nagRef,
} from './nag-acknowledgements.js';
import { assertAlternatives } from './shared/props.js';
import { SecureBucket } from './shared/secure-bucket.js';
import { bucketObjectsArn, grantLakeWrite, grantQueueSend } from './shared/grants.js';

/** Export staging prefix in the export bucket: HealthLake output and manifests live under it. */
export const EXPORT_STAGING_PREFIX = 'exports/';
/** ProcessFiles ResultWriter output (per-file results read by CompleteRun), expiring with the staging prefix. */
export const MAP_RESULTS_PREFIX = `${EXPORT_STAGING_PREFIX}map-results/`;

/**
 * EventBridge Scheduler rate for a run interval in minutes (whole minutes, at least 1).
 *
 * @example
 * scheduleExpressionFor(15) // 'rate(15 minutes)'
 */
export function scheduleExpressionFor(minutes: number): string {
  const whole = Math.max(1, Math.round(minutes));
  return `rate(${whole} ${whole === 1 ? 'minute' : 'minutes'})`;
}

/** Props of {@link HealthLakeExportPipeline}. Every optional prop documents its default; `existingX` and `xProps` are alternatives. */
export interface HealthLakeExportPipelineProps {
  /** Bundles of the handlers. */
  readonly handlerCode: HandlerCodeProvider;
  /** Customer-managed key for every resource here. */
  readonly encryptionKey: kms.IKey;
  /** Lake bucket process-file writes `fhir/<Type>/…` to (usually shared with the change pipes). */
  readonly lakeBucket: s3.IBucket;
  /** Bucket receiving the new export bucket's server access logs. */
  readonly serverAccessLogsBucket: s3.IBucket;
  /**
   * Use this HealthLake datastore instead of creating one. An alternative to `datastoreProps`.
   *
   * @default - a new datastore (`datastoreProps`)
   */
  readonly existingDatastoreId?: string;
  /**
   * Settings of the new datastore. An alternative to `existingDatastoreId`.
   *
   * @default - R4, name `tributary`, SSE with `encryptionKey`
   */
  readonly datastoreProps?: { readonly datastoreName?: string };
  /**
   * Bus for FhirResourceChanged and ExportRunFailed. An alternative to `eventBusProps`.
   *
   * @default - a new bus encrypted with `encryptionKey`
   */
  readonly existingEventBus?: events.IEventBus;
  /**
   * Overrides of the new bus's props. An alternative to `existingEventBus`.
   *
   * @default - none: `kmsKey` is `encryptionKey`
   */
  readonly eventBusProps?: Partial<events.EventBusProps>;
  /**
   * The run ledger (partition key `pk`, sort key `sk`, strings). An alternative to `ledgerTableProps`.
   *
   * @default - a new on-demand table, CMK encryption, PITR, deletion protection when retained
   */
  readonly existingLedgerTable?: dynamodb.ITable;
  /**
   * Overrides of the new ledger table's props (keys must stay `pk`/`sk`). An alternative to `existingLedgerTable`.
   *
   * @default - none
   */
  readonly ledgerTableProps?: Partial<dynamodb.TableProps>;
  /**
   * The bucket HealthLake exports into (staging under `exports/`); it must accept SSE-KMS writes with
   * `encryptionKey`. An alternative to `exportBucketProps`.
   *
   * @default - a new SecureBucket whose `exports/` objects expire after `exportStagingDays`
   */
  readonly existingExportBucket?: s3.IBucket;
  /**
   * Overrides of the new export bucket's props. An alternative to `existingExportBucket`.
   *
   * @default - none
   */
  readonly exportBucketProps?: Partial<s3.BucketProps>;
  /**
   * Use this function as run-ledger (it must behave like src/handlers/run-ledger.ts). The state machine invokes it,
   * the status-change rule targets it, and the grants go to its role (`addToRolePolicy`; none without a role). Set
   * its environment to `functionEnvironments.runLedger` yourself. An alternative to `runLedgerFunctionProps`.
   *
   * @default - a new run-ledger TributaryFunction (`runLedgerFunctionProps`)
   */
  readonly existingRunLedgerFunction?: lambda.IFunction;
  /**
   * Overrides of the run-ledger function's `lambda.Function` props (e.g. `reservedConcurrentExecutions`). An
   * alternative to `existingRunLedgerFunction`.
   *
   * @default - none: 30 seconds, 256 MiB, no reserved concurrency
   */
  readonly runLedgerFunctionProps?: Partial<lambda.FunctionProps>;
  /**
   * Use this function as start-export (it must behave like src/handlers/start-export.ts). It gets the start queue's
   * SQS event source and the grants on its role; set its environment to `functionEnvironments.startExport`
   * yourself. `exportReservedConcurrency` does not apply to it. An alternative to `startExportFunctionProps`.
   *
   * @default - a new start-export TributaryFunction (`startExportFunctionProps`)
   */
  readonly existingStartExportFunction?: lambda.IFunction;
  /**
   * Overrides of the start-export function's `lambda.Function` props. An alternative to
   * `existingStartExportFunction`.
   *
   * @default - none: 60 seconds, 256 MiB, no reserved concurrency
   */
  readonly startExportFunctionProps?: Partial<lambda.FunctionProps>;
  /**
   * Use this function as check-export (it must behave like src/handlers/check-export.ts). It gets the recheck
   * queue's SQS event source and the grants on its role; set its environment to `functionEnvironments.checkExport`
   * yourself. `exportReservedConcurrency` does not apply to it. An alternative to `checkExportFunctionProps`.
   *
   * @default - a new check-export TributaryFunction (`checkExportFunctionProps`)
   */
  readonly existingCheckExportFunction?: lambda.IFunction;
  /**
   * Overrides of the check-export function's `lambda.Function` props. An alternative to
   * `existingCheckExportFunction`.
   *
   * @default - none: 120 seconds, 256 MiB, no reserved concurrency
   */
  readonly checkExportFunctionProps?: Partial<lambda.FunctionProps>;
  /**
   * Use this function as process-file (it must behave like src/handlers/process-file.ts). The Distributed Map
   * invokes it and the grants go to its role; set its environment to `functionEnvironments.processFile` yourself.
   * An alternative to `processFileFunctionProps`.
   *
   * @default - a new process-file TributaryFunction (`processFileFunctionProps`)
   */
  readonly existingProcessFileFunction?: lambda.IFunction;
  /**
   * Overrides of the process-file function's `lambda.Function` props. An alternative to
   * `existingProcessFileFunction`.
   *
   * @default - none: 15 minutes, 1 GiB, no reserved concurrency (the Distributed Map's MaxConcurrency caps it)
   */
  readonly processFileFunctionProps?: Partial<lambda.FunctionProps>;
  /**
   * Workflow timings and policies: the `export` section of the Tributary config, the same object the
   * local runtime uses.
   *
   * @default - its schema defaults (heartbeat 300 s, max wait 6 h, execution timeout 24 h, MaxConcurrency 10,
   * ToleratedFailurePercentage 0, every 15 minutes, every type, COMPLETED_WITH_ERRORS fails, no
   * FhirResourceChanged events, 25 h lock lease)
   */
  readonly workflow?: ExportWorkflowConfigInput;
  /**
   * EventBridge Scheduler expression.
   *
   * @default 'rate(<workflow.scheduleMinutes> minutes)'
   */
  readonly schedule?: string;
  /**
   * Days export staging objects are kept in the new export bucket.
   *
   * @default 7
   */
  readonly exportStagingDays?: number;
  /**
   * Maximum concurrency of the SQS event sources of start-export and check-export (2 to 1000). The run
   * lock already keeps one export at a time; this caps retries without reserving concurrency.
   *
   * @default 2
   */
  readonly exportQueueMaxConcurrency?: number;
  /**
   * Reserved concurrency of the new start-export and check-export functions each (opt-in; reserved units fail
   * deploys on accounts with low quotas). Not applied to an `existingStartExportFunction` or
   * `existingCheckExportFunction`.
   *
   * @default - none
   */
  readonly exportReservedConcurrency?: number;
  /**
   * Removal policy of the table, bucket, queues, datastore and log groups.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Incremental HealthLake export on a schedule (SYSTEM.md §3, /tmp/team/EXPORT_WORKFLOW.md): a Standard
 * state machine with the SQS callback pattern, a Distributed Map over the manifest, a run ledger with
 * a lock released on every failure path (including execution timeout, via an EventBridge rule).
 *
 * @example
 * const exports = new HealthLakeExportPipeline(this, 'FhirExport', { handlerCode, encryptionKey: key, lakeBucket, serverAccessLogsBucket });
 */
export class HealthLakeExportPipeline extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  public readonly ledgerTable: dynamodb.ITable;
  public readonly exportBucket: s3.IBucket;
  public readonly startQueue: QueueWithDlq;
  public readonly recheckQueue: QueueWithDlq;
  public readonly eventBus: events.IEventBus;
  public readonly dataAccessRole: iam.Role;
  public readonly datastoreId: string;
  public readonly datastoreArn: string;
  public readonly datastoreEndpoint: string;
  public readonly datastore?: healthlake.CfnFHIRDatastore;
  /** run-ledger: `existingRunLedgerFunction` or the new function. */
  public readonly runLedgerFunction: lambda.IFunction;
  /** start-export: `existingStartExportFunction` or the new function. */
  public readonly startExportFunction: lambda.IFunction;
  /** check-export: `existingCheckExportFunction` or the new function. */
  public readonly checkExportFunction: lambda.IFunction;
  /** process-file: `existingProcessFileFunction` or the new function. */
  public readonly processFileFunction: lambda.IFunction;
  /** The new run-ledger function; undefined with `existingRunLedgerFunction`. */
  public readonly runLedger?: TributaryFunction;
  /** The new start-export function; undefined with `existingStartExportFunction`. */
  public readonly startExport?: TributaryFunction;
  /** The new check-export function; undefined with `existingCheckExportFunction`. */
  public readonly checkExport?: TributaryFunction;
  /** The new process-file function; undefined with `existingProcessFileFunction`. */
  public readonly processFile?: TributaryFunction;
  /**
   * The environment of each function (besides the Powertools variables), set on the new functions. With an
   * `existingXFunction`, set it yourself (for example `fn.addEnvironment(name, value)` for each entry).
   */
  public readonly functionEnvironments: Readonly<
    Record<'runLedger' | 'startExport' | 'checkExport' | 'processFile', Readonly<Record<string, string>>>
  >;
  public readonly schedule: scheduler.CfnSchedule;
  /** DLQ of run-ledger's asynchronous invocations (the status-change rule). */
  public readonly ledgerDeadLetterQueue: sqs.Queue;
  /** Metrics worth an alarm, by name. */
  public readonly alarmMetrics: Record<string, cloudwatch.IMetric>;

  public constructor(scope: Construct, id: string, props: HealthLakeExportPipelineProps) {
    super(scope, id);
    assertAlternatives(
      'HealthLakeExportPipeline',
      props,
      ['existingDatastoreId', 'datastoreProps'],
      ['existingEventBus', 'eventBusProps'],
      ['existingLedgerTable', 'ledgerTableProps'],
      ['existingExportBucket', 'exportBucketProps'],
      ['existingRunLedgerFunction', 'runLedgerFunctionProps'],
      ['existingStartExportFunction', 'startExportFunctionProps'],
      ['existingCheckExportFunction', 'checkExportFunctionProps'],
      ['existingProcessFileFunction', 'processFileFunctionProps'],
    );
    const stack = Stack.of(this);
    const key = props.encryptionKey;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const workflow = parseExportWorkflowConfig(props.workflow);
    const stateMachineName = `${stack.stackName}-${id}`;
    const stateMachineArn = stack.formatArn({
      service: 'states',
      resource: 'stateMachine',
      resourceName: stateMachineName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const executionArns = stack.formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${stateMachineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });

    this.ledgerTable =
      props.existingLedgerTable ??
      new dynamodb.Table(this, 'Ledger', {
        partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
        sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
        encryptionKey: key,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        deletionProtection: removalPolicy === RemovalPolicy.RETAIN,
        removalPolicy,
        ...props.ledgerTableProps,
      });

    this.exportBucket =
      props.existingExportBucket ??
      new SecureBucket(this, 'ExportBucket', {
        encryptionKey: key,
        serverAccessLogsBucket: props.serverAccessLogsBucket,
        serverAccessLogsPrefix: 'export-bucket/',
        removalPolicy,
        lifecycleRules: [
          {
            id: 'expire-export-staging',
            prefix: EXPORT_STAGING_PREFIX,
            expiration: Duration.days(props.exportStagingDays ?? 7),
            noncurrentVersionExpiration: Duration.days(1),
          },
        ],
        ...(props.exportBucketProps ? { bucketProps: props.exportBucketProps } : {}),
      }).bucket;

    // HealthLake datastore: new (SSE with the customer-managed key) or existing by id.
    if (props.existingDatastoreId) {
      this.datastoreId = props.existingDatastoreId;
      this.datastoreArn = stack.formatArn({
        service: 'healthlake',
        resource: 'datastore',
        resourceName: `fhir/${props.existingDatastoreId}`,
      });
      this.datastoreEndpoint = `https://healthlake.${stack.region}.amazonaws.com/datastore/${props.existingDatastoreId}/r4/`;
    } else {
      this.datastore = new healthlake.CfnFHIRDatastore(this, 'Datastore', {
        datastoreTypeVersion: 'R4',
        datastoreName: props.datastoreProps?.datastoreName ?? 'tributary',
        sseConfiguration: { kmsEncryptionConfig: { cmkType: 'CUSTOMER_MANAGED_KMS_KEY', kmsKeyId: key.keyArn } },
      });
      this.datastore.applyRemovalPolicy(removalPolicy);
      this.datastoreId = this.datastore.attrDatastoreId;
      this.datastoreArn = this.datastore.attrDatastoreArn;
      this.datastoreEndpoint = this.datastore.attrDatastoreEndpoint;
    }

    // The role HealthLake assumes to write the export into the export bucket.
    this.dataAccessRole = new iam.Role(this, 'DataAccessRole', {
      assumedBy: new iam.ServicePrincipal('healthlake.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: 'HealthLake writes FHIR export output to the Tributary export bucket',
    });
    this.dataAccessRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject'],
        resources: [bucketObjectsArn(this.exportBucket, EXPORT_STAGING_PREFIX)],
      }),
    );
    this.dataAccessRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket', 's3:GetBucketPublicAccessBlock', 's3:GetEncryptionConfiguration'],
        resources: [this.exportBucket.bucketArn],
      }),
    );
    grantKeyUse(key, this.dataAccessRole, 'encrypt');

    this.eventBus =
      props.existingEventBus ??
      new events.EventBus(this, 'Bus', {
        description: 'Tributary FhirResourceChanged / ExportRunFailed',
        kmsKey: key,
        ...props.eventBusProps,
      });

    this.startQueue = new QueueWithDlq(this, 'StartQueue', {
      encryptionKey: key,
      visibilityTimeout: Duration.seconds(180),
      removalPolicy,
    });
    this.recheckQueue = new QueueWithDlq(this, 'RecheckQueue', {
      encryptionKey: key,
      visibilityTimeout: Duration.seconds(180),
      maxReceiveCount: 10,
      removalPolicy,
    });

    // The environment of each function (src/fhir-export/export-task-env.ts); an existing function gets it from its owner.
    // start-export and check-export share one.
    const exportTaskEnvironment: Record<string, string> = {
      SOURCE_KIND: 'healthlake',
      FHIR_BASE_URL: this.datastoreEndpoint,
      DATASTORE_ID: this.datastoreId,
      EXPORT_OUTPUT_S3_URI: `s3://${this.exportBucket.bucketName}/${EXPORT_STAGING_PREFIX}`,
      EXPORT_KMS_KEY_ID: key.keyArn,
      DATA_ACCESS_ROLE_ARN: this.dataAccessRole.roleArn,
      EXPORT_BUCKET: this.exportBucket.bucketName,
      MANIFEST_PREFIX: `${EXPORT_STAGING_PREFIX}${workflow.manifestPrefix}`,
      EXPORT_TYPES: workflow.types.join(','),
      LEDGER_TABLE: this.ledgerTable.tableName,
      RECHECK_QUEUE_URL: this.recheckQueue.queue.queueUrl,
      INITIAL_CHECK_DELAY_SECONDS: String(workflow.initialCheckDelaySeconds),
      MAX_CHECK_DELAY_SECONDS: String(workflow.maxCheckDelaySeconds),
      BACKOFF_MULTIPLIER: String(workflow.backoffMultiplier),
      MAX_WAIT_SECONDS: String(workflow.maxWaitSeconds),
      MAX_DESCRIBE_ERRORS: String(workflow.maxDescribeErrors),
      COMPLETED_WITH_ERRORS: workflow.completedWithErrors,
    };
    this.functionEnvironments = {
      // The ledger never takes over a RUNNING owner (DescribeExecution); the lease only frees a lock whose owner's
      // status cannot be read.
      runLedger: {
        LEDGER_TABLE: this.ledgerTable.tableName,
        LEASE_SECONDS: String(leaseSecondsOf(workflow)),
        // A failed run's job is cancelled by a {action:'cancel'} message that check-export acts on.
        RECHECK_QUEUE_URL: this.recheckQueue.queue.queueUrl,
      },
      startExport: exportTaskEnvironment,
      checkExport: exportTaskEnvironment,
      processFile: {
        LAKE_BUCKET: props.lakeBucket.bucketName,
        ...(props.lakeBucket.encryptionKey ? { LAKE_KMS_KEY_ID: props.lakeBucket.encryptionKey.keyArn } : {}),
        EMIT_EVENTS: String(workflow.emitEvents),
        EVENT_BUS_NAME: this.eventBus.eventBusName,
        MAX_BUFFER_MIB: '64',
      },
    };

    // Each function is the caller's (`existingX`) or a new TributaryFunction; either way it is wired the same below.
    const fn = (
      existing: { prop: string; fn: lambda.IFunction | undefined },
      fid: string,
      handlerName: 'run-ledger' | 'start-export' | 'check-export' | 'process-file',
      extra: Partial<ConstructorParameters<typeof TributaryFunction>[2]>,
      functionProps: Partial<lambda.FunctionProps> | undefined,
    ): { own?: TributaryFunction; function: lambda.IFunction } => {
      if (existing.fn) {
        if (!existing.fn.role)
          Annotations.of(this).addWarningV2(
            '@tributary/export-pipeline:existing-function-without-role',
            `${existing.prop} has no role here, so no permission can be granted to it: grant its execution role the ` +
              `actions docs/DEPLOY.md lists for ${handlerName} ("Constructs on their own").`,
          );
        return { function: existing.fn };
      }
      const own = new TributaryFunction(this, fid, {
        handlerName,
        code: props.handlerCode,
        encryptionKey: key,
        removalPolicy,
        ...extra,
        ...(functionProps ? { functionProps } : {}),
      });
      return { own, function: own.function };
    };
    const exportConcurrency =
      props.exportReservedConcurrency !== undefined
        ? { reservedConcurrentExecutions: props.exportReservedConcurrency }
        : {};
    const exportQueueMaxConcurrency = props.exportQueueMaxConcurrency ?? 2;

    // run-ledger is also invoked asynchronously by the status-change rule: give it a DLQ.
    this.ledgerDeadLetterQueue = createDeadLetterQueue(this, 'RunLedgerDlq', key, removalPolicy);
    const runLedger = fn(
      { prop: 'existingRunLedgerFunction', fn: props.existingRunLedgerFunction },
      'RunLedger',
      'run-ledger',
      { deadLetterQueue: this.ledgerDeadLetterQueue, environment: this.functionEnvironments.runLedger },
      props.runLedgerFunctionProps,
    );
    this.runLedger = runLedger.own;
    this.runLedgerFunction = runLedger.function;
    const startExport = fn(
      { prop: 'existingStartExportFunction', fn: props.existingStartExportFunction },
      'StartExport',
      'start-export',
      { timeout: Duration.seconds(60), ...exportConcurrency, environment: this.functionEnvironments.startExport },
      props.startExportFunctionProps,
    );
    this.startExport = startExport.own;
    this.startExportFunction = startExport.function;
    const checkExport = fn(
      { prop: 'existingCheckExportFunction', fn: props.existingCheckExportFunction },
      'CheckExport',
      'check-export',
      { timeout: Duration.seconds(120), ...exportConcurrency, environment: this.functionEnvironments.checkExport },
      props.checkExportFunctionProps,
    );
    this.checkExport = checkExport.own;
    this.checkExportFunction = checkExport.function;
    // No reserved concurrency by default: the Distributed Map's MaxConcurrency caps process-file.
    const processFile = fn(
      { prop: 'existingProcessFileFunction', fn: props.existingProcessFileFunction },
      'ProcessFile',
      'process-file',
      { timeout: Duration.minutes(15), memorySize: 1024, environment: this.functionEnvironments.processFile },
      props.processFileFunctionProps,
    );
    this.processFile = processFile.own;
    this.processFileFunction = processFile.function;

    // run-ledger: the ledger items, and DescribeExecution to detect a dead lock owner.
    this.runLedgerFunction.addToRolePolicy(
      new iam.PolicyStatement({
        actions: [
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
          'dynamodb:Query',
          'dynamodb:ConditionCheckItem',
        ],
        resources: [this.ledgerTable.tableArn],
      }),
    );
    this.runLedgerFunction.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['states:DescribeExecution'], resources: [executionArns] }),
    );
    // An existing function without a role gets none of these grants (the caller grants them; see the warning above).
    const runLedgerRole = this.runLedgerFunction.role;
    if (runLedgerRole) {
      grantKeyUse(key, runLedgerRole, 'encrypt');
      grantQueueSend(this.recheckQueue.queue, runLedgerRole);
    }

    // start-export: FHIR $export on this datastore only, PassRole of the data-access role to HealthLake only.
    this.startExportFunction.addEventSource(
      new lambdaEvents.SqsEventSource(this.startQueue.queue, {
        batchSize: 1,
        reportBatchItemFailures: true,
        maxConcurrency: exportQueueMaxConcurrency,
      }),
    );
    this.startExportFunction.addToRolePolicy(
      new iam.PolicyStatement({
        actions: [
          'healthlake:StartFHIRExportJobWithPost',
          'healthlake:StartFHIRExportJob',
          'healthlake:ListFHIRExportJobs',
          'healthlake:DescribeFHIRDatastore',
        ],
        resources: [this.datastoreArn],
      }),
    );
    this.startExportFunction.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [this.dataAccessRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'healthlake.amazonaws.com' } },
      }),
    );
    this.checkExportFunction.addEventSource(
      new lambdaEvents.SqsEventSource(this.recheckQueue.queue, {
        batchSize: 1,
        reportBatchItemFailures: true,
        maxConcurrency: exportQueueMaxConcurrency,
      }),
    );
    this.checkExportFunction.addToRolePolicy(
      new iam.PolicyStatement({
        actions: [
          'healthlake:DescribeFHIRExportJobWithGet',
          'healthlake:DescribeFHIRExportJob',
          'healthlake:ListFHIRExportJobs',
          'healthlake:CancelFHIRExportJobWithDelete',
        ],
        resources: [this.datastoreArn],
      }),
    );
    // check-export reads the export output listing and writes the manifest.
    this.checkExportFunction.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject', 's3:GetObject', 's3:AbortMultipartUpload'],
        resources: [bucketObjectsArn(this.exportBucket, EXPORT_STAGING_PREFIX)],
      }),
    );
    this.checkExportFunction.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.exportBucket.bucketArn] }),
    );
    for (const worker of [this.startExportFunction, this.checkExportFunction]) {
      worker.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.recheckQueue.queue.queueArn] }),
      );
      // The run record carries the job id (idempotent start on runId).
      worker.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
          resources: [this.ledgerTable.tableArn],
        }),
      );
      worker.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'],
          resources: [stateMachineArn],
        }),
      );
      if (worker.role) grantKeyUse(key, worker.role, 'encrypt');
    }

    // process-file: read export output, write the lake, publish events.
    this.processFileFunction.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [bucketObjectsArn(this.exportBucket, EXPORT_STAGING_PREFIX)],
      }),
    );
    const processFileRole = this.processFileFunction.role;
    if (processFileRole) grantLakeWrite(props.lakeBucket, processFileRole, ['fhir/', '_errors/', 'events/']);
    this.processFileFunction.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['events:PutEvents'], resources: [this.eventBus.eventBusArn] }),
    );
    if (processFileRole) grantKeyUse(key, processFileRole, 'encrypt');

    // The state machine.
    const logGroup = new logs.LogGroup(this, 'WorkflowLogs', {
      encryptionKey: key,
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy,
    });
    const definition = buildExportWorkflowDefinition(new Construct(this, 'Workflow'), {
      ledgerFunction: this.runLedgerFunction,
      processFileFunction: this.processFileFunction,
      startQueue: this.startQueue.queue,
      eventBus: this.eventBus,
      heartbeatSeconds: workflow.heartbeatSeconds,
      maxWaitSeconds: workflow.maxWaitSeconds,
      maxConcurrency: workflow.mapMaxConcurrency,
      toleratedFailurePercentage: workflow.toleratedFailurePercentage,
      mapResultsPrefix: MAP_RESULTS_PREFIX.slice(0, -1),
    });
    const stateMachineRole = new iam.Role(this, 'WorkflowRole', {
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: 'Tributary FHIR export state machine',
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      timeout: Duration.seconds(workflow.executionTimeoutSeconds),
      role: stateMachineRole,
      tracingEnabled: true,
      // ALL state events, but never execution data (inputs/outputs may carry PHI).
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      removalPolicy,
    });
    // Distributed Map: read the manifest, run child executions of this state machine.
    stateMachineRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [bucketObjectsArn(this.exportBucket, EXPORT_STAGING_PREFIX)],
      }),
    );
    stateMachineRole.addToPolicy(
      new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: [stateMachineArn] }),
    );
    stateMachineRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['states:DescribeExecution', 'states:StopExecution'],
        resources: [executionArns],
      }),
    );
    stateMachineRole.addToPolicy(
      new iam.PolicyStatement({ actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [key.keyArn] }),
    );
    // ResultWriter: the Map writes its child results here; CompleteRun (run-ledger) reads them (KMS: key use above).
    stateMachineRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
        resources: [bucketObjectsArn(this.exportBucket, MAP_RESULTS_PREFIX)],
      }),
    );
    this.runLedgerFunction.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [bucketObjectsArn(this.exportBucket, MAP_RESULTS_PREFIX)],
      }),
    );

    // Schedule (EventBridge Scheduler) starts the workflow.
    const schedulerRole = new iam.Role(this, 'SchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: 'Tributary export schedule starts the state machine',
    });
    schedulerRole.addToPolicy(
      new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: [this.stateMachine.stateMachineArn] }),
    );
    this.schedule = new scheduler.CfnSchedule(this, 'Schedule', {
      scheduleExpression: props.schedule ?? scheduleExpressionFor(workflow.scheduleMinutes),
      flexibleTimeWindow: { mode: 'OFF' },
      kmsKeyArn: key.keyArn,
      target: {
        arn: this.stateMachine.stateMachineArn,
        roleArn: schedulerRole.roleArn,
        input: '{}',
        retryPolicy: { maximumRetryAttempts: 0 },
      },
      description: 'Tributary incremental FHIR export',
    });
    schedulerRole.addToPolicy(new iam.PolicyStatement({ actions: ['kms:Decrypt'], resources: [key.keyArn] }));

    // Backstop for failures no Catch sees (timeout, abort): release the lock via run-ledger.
    new events.Rule(this, 'ExecutionEndedRule', {
      description: 'Tributary: release the export lock when an execution times out, aborts or fails',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: { status: ['TIMED_OUT', 'ABORTED', 'FAILED'], stateMachineArn: [this.stateMachine.stateMachineArn] },
      },
      targets: [
        new targets.LambdaFunction(this.runLedgerFunction, {
          retryAttempts: 8,
          maxEventAge: Duration.hours(2),
          deadLetterQueue: this.ledgerDeadLetterQueue,
        }),
      ],
    });

    // As TributaryFunction.metricErrors, for existing functions too.
    const errorsOf = (f: lambda.IFunction) => f.metricErrors({ period: Duration.minutes(1), statistic: 'Sum' });
    this.alarmMetrics = {
      ExecutionsFailed: this.stateMachine.metricFailed({ period: Duration.minutes(5), statistic: 'Sum' }),
      ExecutionsTimedOut: this.stateMachine.metricTimedOut({ period: Duration.minutes(5), statistic: 'Sum' }),
      StartQueueDlqDepth: this.startQueue.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
      RecheckQueueDlqDepth: this.recheckQueue.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
      RunLedgerDlqDepth: this.ledgerDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
      RunLedgerErrors: errorsOf(this.runLedgerFunction),
      StartExportErrors: errorsOf(this.startExportFunction),
      CheckExportErrors: errorsOf(this.checkExportFunction),
      ProcessFileErrors: errorsOf(this.processFileFunction),
    };

    const exportObjects = `AwsSolutions-IAM5[Resource::${bucketNagRef(this.exportBucket)}/${EXPORT_STAGING_PREFIX}*]`;
    const objectsReason =
      'Object keys are generated per export job; access is scoped to the export staging prefix of this bucket.';
    // cdk-nag renders unresolved pseudo parameters as <AWS::Region>/<AWS::AccountId> (env-agnostic stacks).
    const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
    const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
    const executions = `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:${region}:${account}:execution:${stateMachineName}:*]`;
    const executionsReason =
      'Execution names are generated per run; access is scoped to executions of this one state machine.';
    acknowledge(this.dataAccessRole, { [exportObjects]: objectsReason });
    // The findings of the statements added here, on whichever role holds them (an existing function's too).
    if (this.checkExportFunction.role) acknowledge(this.checkExportFunction.role, { [exportObjects]: objectsReason });
    if (processFileRole)
      acknowledge(processFileRole, {
        [exportObjects]: objectsReason,
        ...lakePrefixAcknowledgements(props.lakeBucket, ['fhir/', '_errors/', 'events/']),
      });
    const mapResults = `AwsSolutions-IAM5[Resource::${nagRef(this.exportBucket)}/${MAP_RESULTS_PREFIX}*]`;
    const mapResultsReason =
      'Distributed Map result files: keys are generated per map run by Step Functions, under one prefix of this bucket.';
    if (runLedgerRole) acknowledge(runLedgerRole, { [executions]: executionsReason, [mapResults]: mapResultsReason });
    acknowledge(stateMachineRole, {
      [mapResults]: mapResultsReason,
      [exportObjects]:
        'The Distributed Map reads the manifest, whose key is generated per run, under the export staging prefix only.',
      [executions]: executionsReason,
      [`AwsSolutions-IAM5[Resource::${functionNagRef(this.runLedgerFunction)}:*]`]:
        'CDK LambdaInvoke grants the function and its versions/aliases (qualifier wildcard), still one function.',
      [`AwsSolutions-IAM5[Resource::${functionNagRef(this.processFileFunction)}:*]`]:
        'CDK LambdaInvoke grants the function and its versions/aliases (qualifier wildcard), still one function.',
      'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]':
        'CDK SqsSendMessage grants data-key generation on the start queue key only (one key ARN), needed to send to the SSE-KMS queue.',
      'AwsSolutions-IAM5[Resource::*]':
        'X-Ray tracing of the state machine: xray:PutTraceSegments/GetSamplingRules support no resource-level permissions.',
    });
    const mapExecutions =
      '{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"' + nagRef(this.stateMachine).slice(1, -5) + '"}]}]}';
    acknowledge(this.stateMachine, {
      [`AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:${region}:${account}:execution:${mapExecutions}:*]`]:
        'Distributed Map child executions of this state machine only (names generated by Step Functions).',
      [`AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:${region}:${account}:execution:${mapExecutions}/*:*]`]:
        'Distributed Map child executions of this state machine only (names generated by Step Functions).',
    });
  }
}
