/**
 * The backfill/repair workflow locally: the same ASL (`workflow.asl.json`) on the local state-machine executor, its
 * resources bound to what the local runtime has.
 *
 * - `lambda:invoke` of the backfill function → {@link runBackfillTask} (the Lambda's domain code);
 * - `aws-sdk:dynamodb:exportTableToPointInTime` / `describeExport` → the same calls, through an unmodified SDK client,
 *   to the embedded DynamoDB (which writes the export to the local S3 directory), errors named as AWS names them;
 * - `s3:getObject` (the ItemReader, JSONL) and `s3:putObject` (the ResultWriter) → `<bucketsDir>/<bucket>/`;
 * - `events:putEvents` → `onEvent`.
 */
import {
  DescribeExportCommand,
  ExportTableToPointInTimeCommand,
  type DescribeExportCommandInput,
  type DynamoDBClient,
  type ExportTableToPointInTimeCommandInput,
} from '@aws-sdk/client-dynamodb';
import { join } from 'node:path';
import { DirectoryObjectStore } from '../local/object-store/directory-object-store.js';
import { AWS_SDK_ERROR_PREFIXES, awsSdkResource, awsSdkTask } from '../local/state-machine/aws-sdk-task.js';
import {
  LAMBDA_INVOKE,
  S3_GET_OBJECT,
  S3_PUT_OBJECT,
  StateMachineExecutor,
  putEventsEntries,
  putEventsResult,
  s3GetObjectTask,
  s3PutObjectTask,
} from '../local/state-machine/index.js';
import type { ResourceHandler } from '../local/state-machine/types.js';
import type { ObjectStore } from '../ports/object-store.js';
import { loadBackfillWorkflow } from './workflow-definition.js';
import { runBackfillTask, type BackfillSettings, type BackfillTableConfig } from './workflow-tasks.js';

/** The placeholders' local values. */
export const LOCAL_BACKFILL_RESOURCES = {
  BackfillFunctionArn: 'local:backfill',
  EventBusName: 'local:event-bus',
} as const;

/** An event the workflow put on the bus. */
export interface LocalBackfillEvent {
  source: string;
  detailType: string;
  detail: unknown;
}

/** Options of {@link createLocalBackfillWorkflow}. */
export interface LocalBackfillWorkflowOptions {
  /** A client of the embedded DynamoDB (or any DynamoDB endpoint). */
  dynamodb: DynamoDBClient;
  /** The local S3 directory: one sub-directory per bucket (where the embedded DynamoDB writes exports). */
  bucketsDir: string;
  lake: ObjectStore;
  tables: readonly BackfillTableConfig[];
  /** `exportKmsKeyId` defaults to `local`; `pollSeconds` to 1. */
  settings: Omit<BackfillSettings, 'exportKmsKeyId'> & { exportKmsKeyId?: string };
  /** SQLite file of the executor's durable state. */
  dbFile: string;
  onEvent?: (event: LocalBackfillEvent) => void;
  stateMachineArn?: string;
}

/**
 * The resources the backfill ASL needs, bound locally.
 *
 * @example
 * const resources = localBackfillResources({ dynamodb, bucketsDir, lake, tables, settings: { exportBucket: 'exports' }, dbFile });
 */
export function localBackfillResources(options: LocalBackfillWorkflowOptions): Record<string, ResourceHandler> {
  const buckets = new Map<string, DirectoryObjectStore>();
  const bucket = (name: string): DirectoryObjectStore => {
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name)) throw new Error(`invalid bucket name ${name}`);
    let store = buckets.get(name);
    if (!store) buckets.set(name, (store = new DirectoryObjectStore(join(options.bucketsDir, name))));
    return store;
  };
  const deps = {
    tables: options.tables,
    settings: { pollSeconds: 1, ...options.settings, exportKmsKeyId: options.settings.exportKmsKeyId ?? 'local' },
    dynamodb: options.dynamodb,
    bucket,
    lake: options.lake,
  };
  const dynamo = AWS_SDK_ERROR_PREFIXES.dynamodb;
  return {
    [LAMBDA_INVOKE]: async (parameters) => {
      const { FunctionName, Payload } = parameters as { FunctionName?: string; Payload?: unknown };
      if (FunctionName !== LOCAL_BACKFILL_RESOURCES.BackfillFunctionArn)
        throw Object.assign(new Error(`no local function ${String(FunctionName)}`), {
          name: 'Lambda.ResourceNotFoundException',
        });
      return runBackfillTask(Payload, deps);
    },
    [awsSdkResource('dynamodb', 'exportTableToPointInTime')]: awsSdkTask<ExportTableToPointInTimeCommandInput>(
      dynamo,
      (input) => options.dynamodb.send(new ExportTableToPointInTimeCommand(input)),
      { timestampFields: ['ExportTime', 'ExportFromTime', 'ExportToTime'] },
    ),
    [awsSdkResource('dynamodb', 'describeExport')]: awsSdkTask<DescribeExportCommandInput>(dynamo, (input) =>
      options.dynamodb.send(new DescribeExportCommand(input)),
    ),
    [S3_GET_OBJECT]: s3GetObjectTask(bucket),
    [S3_PUT_OBJECT]: s3PutObjectTask(bucket),
    'arn:aws:states:::events:putEvents': (parameters) => {
      const events = putEventsEntries(parameters);
      for (const event of events) options.onEvent?.(event);
      return Promise.resolve(putEventsResult(events));
    },
  };
}

/**
 * The local executor running the backfill ASL with {@link localBackfillResources}.
 *
 * @example
 * const executor = createLocalBackfillWorkflow(options);
 * const { executionArn } = await executor.startExecution({ input: { table: 'visits', mode: 'FULL' } });
 * const done = await executor.waitForExecution(executionArn);
 */
export function createLocalBackfillWorkflow(options: LocalBackfillWorkflowOptions): StateMachineExecutor {
  return new StateMachineExecutor({
    definition: loadBackfillWorkflow(LOCAL_BACKFILL_RESOURCES),
    stateMachineArn: options.stateMachineArn ?? 'arn:aws:states:us-east-1:000000000000:stateMachine:tributary-backfill',
    dbFile: options.dbFile,
    resources: localBackfillResources(options),
  });
}
