import { Duration } from 'aws-cdk-lib';
import * as cxapi from 'aws-cdk-lib/cx-api';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';

/** State names: part of the export workflow contract (tests and the local executor rely on them). */
export const EXPORT_STATES = {
  acquireLock: 'AcquireLock',
  lockAcquired: 'LockAcquired?',
  alreadyRunning: 'AlreadyRunning',
  startExport: 'StartExport',
  processFiles: 'ProcessFiles',
  processFile: 'ProcessFile',
  processFileFailed: 'ProcessFileFailed',
  completeRun: 'CompleteRun',
  completedWithErrors: 'CompletedWithErrors?',
  publishCompletedWithErrors: 'PublishCompletedWithErrors',
  runSucceeded: 'RunSucceeded',
  recordFailure: 'RecordFailure',
  publishFailure: 'PublishFailure',
  runFailed: 'RunFailed',
} as const;

/** Inputs of {@link buildExportWorkflowDefinition}. */
export interface ExportWorkflowDefinitionProps {
  /** run-ledger Lambda (acquire / complete / fail). */
  readonly ledgerFunction: lambda.IFunction;
  /** process-file Lambda, one invocation per manifest item. */
  readonly processFileFunction: lambda.IFunction;
  /** Queue start-export consumes; the message carries the task token. */
  readonly startQueue: sqs.IQueue;
  /** Bus receiving ExportRunFailed and ExportRunCompletedWithErrors. */
  readonly eventBus: events.IEventBus;
  /** StartExport HeartbeatSeconds. Default: 300. */
  readonly heartbeatSeconds?: number;
  /** StartExport TimeoutSeconds (longest export). Default: 21600 (6 h). */
  readonly maxWaitSeconds?: number;
  /** ProcessFiles MaxConcurrency. Default: 10. */
  readonly maxConcurrency?: number;
  /** ProcessFiles ToleratedFailurePercentage. Default: 0. */
  readonly toleratedFailurePercentage?: number;
  /**
   * Prefix, in the export bucket (the manifest's bucket, `$.export.bucket`), of the ProcessFiles ResultWriter output
   * (`<prefix>/<map run id>/manifest.json` and `SUCCEEDED_n.json`/`FAILED_n.json`). The caller grants
   * `s3:PutObject` there to the state machine and `s3:GetObject` to the ledger. Default: {@link DEFAULT_MAP_RESULTS_PREFIX}.
   */
  readonly mapResultsPrefix?: string;
}

/** Default {@link ExportWorkflowDefinitionProps.mapResultsPrefix}: under the export staging prefix. */
export const DEFAULT_MAP_RESULTS_PREFIX = 'exports/map-results';

/**
 * A ResultWriter whose bucket is a JSONPath (`$.export.bucket`): CDK would grant `s3:PutObject` on `*` for it, so it
 * grants nothing and the construct grants the one prefix instead.
 */
class PrefixScopedResultWriter extends sfn.ResultWriterV2 {
  public override providePolicyStatements(): iam.PolicyStatement[] {
    return [];
  }
}

const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
];

/**
 * The incremental FHIR export workflow (/tmp/team/EXPORT_WORKFLOW.md), defined once: CDK deploys
 * it, and scripts/synth-workflow.ts writes the same ASL for the local executor.
 *
 * @example
 * const definition = buildExportWorkflowDefinition(this, { ledgerFunction, processFileFunction, startQueue, eventBus });
 * new sfn.StateMachine(this, 'Workflow', { definitionBody: sfn.DefinitionBody.fromChainable(definition) });
 */
export function buildExportWorkflowDefinition(scope: Construct, props: ExportWorkflowDefinitionProps): sfn.IChainable {
  const runFailed = new sfn.Fail(scope, EXPORT_STATES.runFailed, {
    error: 'Export.RunFailed',
    cause: 'the export run failed; see the run ledger',
  });

  const publishFailure = new tasks.EventBridgePutEvents(scope, EXPORT_STATES.publishFailure, {
    entries: [
      {
        eventBus: props.eventBus,
        source: 'tributary.export',
        detailType: 'ExportRunFailed',
        // RecordFailure rewrote $.error as {Error, Cause} with Cause always present (see below).
        detail: sfn.TaskInput.fromObject({
          runId: sfn.JsonPath.stringAt('$.lock.runId'),
          error: sfn.JsonPath.stringAt('$.error.Error'),
          cause: sfn.JsonPath.stringAt('$.error.Cause'),
        }),
      },
    ],
    resultPath: sfn.JsonPath.DISCARD,
  });
  publishFailure.addCatch(runFailed, { errors: [sfn.Errors.ALL], resultPath: '$.publishError' });
  publishFailure.next(runFailed);

  const recordFailure = new tasks.LambdaInvoke(scope, EXPORT_STATES.recordFailure, {
    lambdaFunction: props.ledgerFunction,
    payload: sfn.TaskInput.fromObject({
      action: 'fail',
      runId: sfn.JsonPath.stringAt('$.lock.runId'),
      executionArn: sfn.JsonPath.stringAt('$$.Execution.Id'),
      // The whole caught error: `$.error.Cause` would be a path failure for errors that carry no Cause.
      error: sfn.JsonPath.objectAt('$.error'),
    }),
    retryOnServiceExceptions: false,
    // The ledger answers the error it recorded, with a Cause (empty when there was none), for PublishFailure.
    resultSelector: {
      Error: sfn.JsonPath.stringAt('$.Payload.error'),
      Cause: sfn.JsonPath.stringAt('$.Payload.cause'),
    },
    resultPath: '$.error',
  });
  recordFailure.addRetry({
    errors: [...LAMBDA_SERVICE_ERRORS, sfn.Errors.TASKS_FAILED],
    maxAttempts: 3,
    interval: Duration.seconds(2),
    backoffRate: 2,
  });
  // The EventBridge status-change rule and the lock lease are the backstop if the ledger is down.
  recordFailure.addCatch(publishFailure, { errors: [sfn.Errors.ALL], resultPath: '$.ledgerError' });
  recordFailure.next(publishFailure);

  const acquireLock = new tasks.LambdaInvoke(scope, EXPORT_STATES.acquireLock, {
    lambdaFunction: props.ledgerFunction,
    payload: sfn.TaskInput.fromObject({
      action: 'acquire',
      executionArn: sfn.JsonPath.stringAt('$$.Execution.Id'),
      executionName: sfn.JsonPath.stringAt('$$.Execution.Name'),
      startTime: sfn.JsonPath.stringAt('$$.Execution.StartTime'),
    }),
    resultSelector: {
      acquired: sfn.JsonPath.stringAt('$.Payload.acquired'),
      runId: sfn.JsonPath.stringAt('$.Payload.runId'),
      since: sfn.JsonPath.stringAt('$.Payload.since'),
    },
    resultPath: '$.lock',
  });
  // Nothing to release: the lock was not taken.
  acquireLock.addCatch(runFailed, { errors: [sfn.Errors.ALL], resultPath: '$.error' });

  const alreadyRunning = new sfn.Succeed(scope, EXPORT_STATES.alreadyRunning, { comment: 'already running' });

  const startExport = new tasks.SqsSendMessage(scope, EXPORT_STATES.startExport, {
    queue: props.startQueue,
    integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
    messageBody: sfn.TaskInput.fromObject({
      taskToken: sfn.JsonPath.taskToken,
      runId: sfn.JsonPath.stringAt('$.lock.runId'),
      since: sfn.JsonPath.stringAt('$.lock.since'),
      executionArn: sfn.JsonPath.stringAt('$$.Execution.Id'),
    }),
    heartbeatTimeout: sfn.Timeout.duration(Duration.seconds(props.heartbeatSeconds ?? 300)),
    taskTimeout: sfn.Timeout.duration(Duration.seconds(props.maxWaitSeconds ?? 21_600)),
    resultPath: '$.export',
  });
  startExport.addCatch(recordFailure, { errors: [sfn.Errors.ALL], resultPath: '$.error' });

  const processFile = new tasks.LambdaInvoke(scope, EXPORT_STATES.processFile, {
    lambdaFunction: props.processFileFunction,
    payload: sfn.TaskInput.fromJsonPathAt('$'),
    outputPath: '$.Payload',
    retryOnServiceExceptions: false,
  });
  processFile.addRetry({
    errors: [...LAMBDA_SERVICE_ERRORS, sfn.Errors.TASKS_FAILED],
    maxAttempts: 2,
    interval: Duration.seconds(2),
    backoffRate: 2,
  });
  // The child still fails (counted against ToleratedFailurePercentage), with the cause kept.
  // The whole error as the cause: it keeps the original error name, and works when there is no Cause.
  const processFileFailed = new sfn.Fail(scope, EXPORT_STATES.processFileFailed, {
    error: 'Export.FileFailed',
    causePath: sfn.JsonPath.jsonToString(sfn.JsonPath.objectAt('$.error')),
  });
  processFile.addCatch(processFileFailed, { errors: [sfn.Errors.ALL], resultPath: '$.error' });

  // ResultWriterV2 (a bucket given as a JSONPath) renders only under this feature flag; it is set on a scope of
  // the Map's own so the caller's app needs no context. The state keeps its name (the construct id).
  const mapScope = new Construct(scope, 'ProcessFilesScope');
  mapScope.node.setContext(cxapi.STEPFUNCTIONS_USE_DISTRIBUTED_MAP_RESULT_WRITER_V2, true);
  const processFiles = new sfn.DistributedMap(mapScope, EXPORT_STATES.processFiles, {
    itemReader: new sfn.S3JsonItemReader({
      bucketNamePath: sfn.JsonPath.stringAt('$.export.bucket'),
      key: sfn.JsonPath.stringAt('$.export.manifestKey'),
    }),
    itemSelector: {
      item: sfn.JsonPath.stringAt('$$.Map.Item.Value'),
      runId: sfn.JsonPath.stringAt('$.lock.runId'),
      jobId: sfn.JsonPath.stringAt('$.export.jobId'),
      transactionTime: sfn.JsonPath.stringAt('$.export.transactionTime'),
    },
    mapExecutionType: sfn.StateMachineType.STANDARD,
    maxConcurrency: props.maxConcurrency ?? 10,
    toleratedFailurePercentage: props.toleratedFailurePercentage ?? 0,
    // Child results go to S3, not into the execution: inline, ~1,000 files reach the 256 KiB payload quota
    // (States.DataLimitExceeded, which no Catch sees). Only the manifest's location reaches CompleteRun.
    resultWriterV2: new PrefixScopedResultWriter({
      bucketNamePath: sfn.JsonPath.stringAt('$.export.bucket'),
      prefix: props.mapResultsPrefix ?? DEFAULT_MAP_RESULTS_PREFIX,
    }),
    resultSelector: {
      Bucket: sfn.JsonPath.stringAt('$.ResultWriterDetails.Bucket'),
      Key: sfn.JsonPath.stringAt('$.ResultWriterDetails.Key'),
    },
    resultPath: '$.processed',
  });
  processFiles.itemProcessor(processFile);
  processFiles.addCatch(recordFailure, { errors: [sfn.Errors.ALL], resultPath: '$.error' });

  const completeRun = new tasks.LambdaInvoke(scope, EXPORT_STATES.completeRun, {
    lambdaFunction: props.ledgerFunction,
    payload: sfn.TaskInput.fromObject({
      action: 'complete',
      runId: sfn.JsonPath.stringAt('$.lock.runId'),
      executionArn: sfn.JsonPath.stringAt('$$.Execution.Id'),
      transactionTime: sfn.JsonPath.stringAt('$.export.transactionTime'),
      jobId: sfn.JsonPath.stringAt('$.export.jobId'),
      // {Bucket, Key} of the ResultWriter's manifest.json: the ledger sums the result files it lists.
      mapResults: sfn.JsonPath.objectAt('$.processed'),
      // check-export always sends exportErrors (an empty array when there are none).
      exportErrors: sfn.JsonPath.listAt('$.export.exportErrors'),
    }),
    resultSelector: {
      status: sfn.JsonPath.stringAt('$.Payload.status'),
      errors: sfn.JsonPath.objectAt('$.Payload.errors'),
      failedFiles: sfn.JsonPath.numberAt('$.Payload.failedFiles'),
    },
    resultPath: '$.completed',
  });
  completeRun.addCatch(recordFailure, { errors: [sfn.Errors.ALL], resultPath: '$.error' });

  const runSucceeded = new sfn.Succeed(scope, EXPORT_STATES.runSucceeded);

  // The run landed what was exported but the export reported errors (policy `continue`) or lines were rejected:
  // say so on the bus. A failed put does not fail the run (the run record has the counts).
  const publishCompletedWithErrors = new tasks.EventBridgePutEvents(scope, EXPORT_STATES.publishCompletedWithErrors, {
    entries: [
      {
        eventBus: props.eventBus,
        source: 'tributary.export',
        detailType: 'ExportRunCompletedWithErrors',
        detail: sfn.TaskInput.fromObject({
          runId: sfn.JsonPath.stringAt('$.lock.runId'),
          jobId: sfn.JsonPath.stringAt('$.export.jobId'),
          transactionTime: sfn.JsonPath.stringAt('$.export.transactionTime'),
          errors: sfn.JsonPath.objectAt('$.completed.errors'),
          failedFiles: sfn.JsonPath.numberAt('$.completed.failedFiles'),
        }),
      },
    ],
    resultPath: sfn.JsonPath.DISCARD,
  });
  publishCompletedWithErrors.addCatch(runSucceeded, { errors: [sfn.Errors.ALL], resultPath: '$.publishError' });
  publishCompletedWithErrors.next(runSucceeded);
  const completedWithErrors = new sfn.Choice(scope, EXPORT_STATES.completedWithErrors)
    .when(sfn.Condition.stringEquals('$.completed.status', 'COMPLETED_WITH_ERRORS'), publishCompletedWithErrors)
    .otherwise(runSucceeded);

  return acquireLock.next(
    new sfn.Choice(scope, EXPORT_STATES.lockAcquired)
      .when(
        sfn.Condition.booleanEquals('$.lock.acquired', true),
        startExport.next(processFiles).next(completeRun).next(completedWithErrors),
      )
      .otherwise(alreadyRunning),
  );
}
