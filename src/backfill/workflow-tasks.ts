/**
 * The backfill Lambda's domain (`src/handlers/backfill.ts` on AWS, called directly by the local binding): the three
 * Lambda steps of `src/backfill/workflow.asl.json`.
 *
 * - `plan`: resolves the config table, reads point-in-time recovery (`DescribeContinuousBackups`) and plans the export
 *   ({@link planExport}); returns everything later states need, with `null` for what does not apply.
 * - `land`: one data file of the export into the table's lake partitions ({@link landExportDataFile}), flushed.
 * - `summarize`: sums the Distributed Map's results (its ResultWriter files) into counts.
 *
 * Every result carries ids, times and counts only: never item data.
 */
import { createHash } from 'node:crypto';
import { DescribeContinuousBackupsCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EventTimeSource } from '../change-stream/types.js';
import { ErrorSink } from '../lake/error-sink.js';
import { PartitionedNdjsonWriter } from '../lake/partitioned-ndjson-writer.js';
import type { ObjectStore } from '../ports/object-store.js';
import * as z from '../validation/zod-mini.js';
import { readExportSummary } from './export-manifest.js';
import { planExport, type IncrementalWindowLimits } from './export-window.js';
import { exportContextOf } from './land-export.js';
import { landExportDataFile } from './land-export-file.js';
import type { ExportManifestSummary } from './types.js';
import { BackfillInputError, parseBackfillInput } from './workflow-input.js';

/** A table the backfill may export: its config name, where it lives, and how its changes are partitioned. */
export interface BackfillTableConfig {
  /** The config's table name (the lake's `changes/<name>/`). */
  name: string;
  /** The DynamoDB table's physical name (the config name, or an existing table's). */
  tableName: string;
  tableArn: string;
  /** Partition key, then sort key. */
  keyAttributes: string[];
  partitionBy?: string[] | undefined;
  eventTime?: EventTimeSource | undefined;
  ttlAttribute?: string | undefined;
}

/** Schema of the `BACKFILL_TABLES` environment variable (a JSON array of {@link BackfillTableConfig}). */
export const backfillTablesSchema = z.array(
  z.object({
    name: z.string().check(z.minLength(1)),
    tableName: z.string().check(z.minLength(1)),
    tableArn: z.string().check(z.minLength(1)),
    keyAttributes: z.array(z.string()).check(z.minLength(1)),
    partitionBy: z.optional(z.array(z.string())),
    eventTime: z.optional(z.object({ attribute: z.string(), unit: z.enum(['ms', 's', 'iso']) })),
    ttlAttribute: z.optional(z.string()),
  }),
);

/** Where exports go and how the workflow polls them. */
export interface BackfillSettings {
  /** The bucket DynamoDB exports to (and the Map's results go to). */
  exportBucket: string;
  /** Prefix of the exports: `<prefix><table>/AWSDynamoDB/<exportId>/…`. Default `exports/dynamodb/`. */
  exportPrefix?: string | undefined;
  /** KMS key the export objects are encrypted with (`S3SseKmsKeyId`). */
  exportKmsKeyId: string;
  /** Seconds between DescribeExport polls. Default 60. */
  pollSeconds?: number | undefined;
  /** Polls before the run fails with `Backfill.ExportTimedOut`. Default 360 (6 h at 60 s). */
  maxPolls?: number | undefined;
  /** Incremental window bounds. Default DynamoDB's: 15 minutes to 24 hours. */
  windowLimits?: IncrementalWindowLimits | undefined;
  /** Bytes buffered per lake partition before a file is written. Default 8 MiB. */
  maxBufferBytes?: number | undefined;
}

/** Collaborators of {@link runBackfillTask}. */
export interface BackfillTaskDeps {
  tables: readonly BackfillTableConfig[];
  settings: BackfillSettings;
  /** For `DescribeContinuousBackups`. */
  dynamodb: Pick<DynamoDBClient, 'send'>;
  /** The store of a bucket (the export bucket; keys are the manifest's). */
  bucket: (name: string) => ObjectStore;
  /** The lake. */
  lake: ObjectStore;
  now?: () => number;
}

/** What `plan` returns (the state machine's `$.plan`). */
export interface BackfillPlan {
  table: string;
  tableName: string;
  tableArn: string;
  mode: 'FULL' | 'INCREMENTAL';
  exportBucket: string;
  s3Prefix: string;
  exportKmsKeyId: string;
  /** Idempotency token of ExportTableToPointInTime: the same for a retried task of the same window. */
  clientToken: string;
  /** Set when re-landing an existing export (no export is started). */
  exportArn: string | null;
  exportType: 'FULL_EXPORT' | 'INCREMENTAL_EXPORT' | null;
  exportTime: string | null;
  exportFromTime: string | null;
  exportToTime: string | null;
  widened: boolean;
  /** The input of the next window when a window over 24 h was cut. */
  next: { table: string; mode: 'INCREMENTAL'; exportFromTime: string; exportToTime: string } | null;
  pollSeconds: number;
  maxPolls: number;
}

/** What `land` returns for one data file. */
export interface LandedDataFile {
  records: number;
  failed: number;
  files: number;
}

/** What `summarize` returns (and the completion event carries). */
export interface BackfillSummary {
  table: string;
  exportArn: string;
  dataFiles: number;
  failedDataFiles: number;
  records: number;
  failedRecords: number;
  lakeFiles: number;
}

const planEvent = z.object({
  action: z.literal('plan'),
  input: z.unknown(),
  executionName: z.string(),
});
const landEvent = z.object({
  action: z.literal('land'),
  table: z.string(),
  bucket: z.string(),
  summaryKey: z.string(),
  dataFileKey: z.string(),
});
const summarizeEvent = z.object({
  action: z.literal('summarize'),
  table: z.string(),
  exportArn: z.string(),
  mapResults: z.object({ Bucket: z.string(), Key: z.string() }),
});
const taskEvent = z.discriminatedUnion('action', [planEvent, landEvent, summarizeEvent]);

/** A task event is not one the workflow sends. */
export class BackfillTaskError extends Error {
  public override readonly name = 'Backfill.InvalidTask';
}

/** Default export prefix in the export bucket. */
export const DEFAULT_BACKFILL_EXPORT_PREFIX = 'exports/dynamodb/';

/**
 * Runs one Lambda step of the backfill workflow.
 *
 * @example
 * const plan = await runBackfillTask({ action: 'plan', input: { table: 'visits', mode: 'FULL' }, executionName: 'b-1' }, deps);
 */
export async function runBackfillTask(
  event: unknown,
  deps: BackfillTaskDeps,
): Promise<BackfillPlan | LandedDataFile | BackfillSummary> {
  const parsed = taskEvent.safeParse(event);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new BackfillTaskError(`backfill task ${issue?.path.join('.') || '(root)'}: ${issue?.message}`);
  }
  const task = parsed.data;
  if (task.action === 'plan') return planBackfill(task.input, task.executionName, deps);
  if (task.action === 'land') return landDataFile(task, deps);
  return summarizeBackfill(task, deps);
}

function tableOf(deps: BackfillTaskDeps, name: string): BackfillTableConfig {
  const table = deps.tables.find((t) => t.name === name);
  if (!table) throw new BackfillInputError(`backfill input table: ${name} is not a table with a lake pipe`);
  return table;
}

async function planBackfill(input: unknown, executionName: string, deps: BackfillTaskDeps): Promise<BackfillPlan> {
  const request = parseBackfillInput(input);
  const table = tableOf(deps, request.table);
  const { settings } = deps;
  const base = {
    table: table.name,
    tableName: table.tableName,
    tableArn: table.tableArn,
    mode: request.mode,
    exportBucket: settings.exportBucket,
    s3Prefix: `${settings.exportPrefix ?? DEFAULT_BACKFILL_EXPORT_PREFIX}${table.name}`,
    exportKmsKeyId: settings.exportKmsKeyId,
    pollSeconds: settings.pollSeconds ?? 60,
    maxPolls: settings.maxPolls ?? 360,
  };
  if (request.exportArn) {
    if (!request.exportArn.startsWith(`${table.tableArn}/export/`))
      throw new BackfillInputError(`backfill input exportArn: not an export of table ${table.name}`);
    return {
      ...base,
      clientToken: token(executionName, request.exportArn),
      exportArn: request.exportArn,
      exportType: null,
      exportTime: null,
      exportFromTime: null,
      exportToTime: null,
      widened: false,
      next: null,
    };
  }
  const backups = await deps.dynamodb.send(new DescribeContinuousBackupsCommand({ TableName: table.tableName }));
  const pitr = backups.ContinuousBackupsDescription?.PointInTimeRecoveryDescription;
  const planned = planExport({
    mode: request.mode,
    nowMs: (deps.now ?? Date.now)(),
    pitr: {
      enabled: pitr?.PointInTimeRecoveryStatus === 'ENABLED',
      earliestMs: pitr?.EarliestRestorableDateTime?.getTime(),
      latestMs: pitr?.LatestRestorableDateTime?.getTime(),
    },
    fromMs: request.exportFromTime === undefined ? undefined : Date.parse(request.exportFromTime),
    toMs: request.exportToTime === undefined ? undefined : Date.parse(request.exportToTime),
    limits: settings.windowLimits,
  });
  if (planned.exportType === 'FULL_EXPORT')
    return {
      ...base,
      clientToken: token(executionName, planned.exportTime),
      exportArn: null,
      exportType: planned.exportType,
      exportTime: planned.exportTime,
      exportFromTime: null,
      exportToTime: null,
      widened: false,
      next: null,
    };
  return {
    ...base,
    clientToken: token(executionName, `${planned.exportFromTime}/${planned.exportToTime}`),
    exportArn: null,
    exportType: planned.exportType,
    exportTime: null,
    exportFromTime: planned.exportFromTime,
    exportToTime: planned.exportToTime,
    widened: planned.widened,
    next: planned.next ? { table: table.name, mode: 'INCREMENTAL', ...planned.next } : null,
  };
}

function token(executionName: string, what: string): string {
  return createHash('sha256').update(`${executionName}#${what}`).digest('hex');
}

/** Summaries read by this process, by bucket and key (a warm Lambda lands many files of one export). */
const summaries = new Map<string, Promise<ExportManifestSummary>>();

async function landDataFile(task: z.infer<typeof landEvent>, deps: BackfillTaskDeps): Promise<LandedDataFile> {
  const table = tableOf(deps, task.table);
  const exportStore = deps.bucket(task.bucket);
  const cacheKey = `${task.bucket}/${task.summaryKey}`;
  let summary = summaries.get(cacheKey);
  if (!summary) {
    summary = readExportSummary(exportStore, task.summaryKey);
    summaries.set(cacheKey, summary);
    summary.catch(() => summaries.delete(cacheKey));
    if (summaries.size > 100) summaries.delete(summaries.keys().next().value as string);
  }
  const context = exportContextOf(await summary, table.keyAttributes);
  const writer = new PartitionedNdjsonWriter({
    store: deps.lake,
    maxBytes: deps.settings.maxBufferBytes ?? 8 * 1024 * 1024,
  });
  const errors = new ErrorSink({ store: deps.lake, pipeline: `backfill-${table.name}` });
  const landed = await landExportDataFile(
    {
      exportStore,
      table: {
        name: table.name,
        ttlAttribute: table.ttlAttribute,
        pipe: { partitionBy: table.partitionBy, eventTime: table.eventTime },
      },
      context,
      writer,
      errors,
    },
    task.dataFileKey,
  );
  const flushed = await writer.flush();
  await errors.flush();
  return { records: landed.records, failed: landed.failed, files: landed.files.length + flushed.length };
}

interface ResultManifest {
  ResultFiles?: { SUCCEEDED?: Array<{ Key: string }>; FAILED?: Array<{ Key: string }> };
}

async function summarizeBackfill(
  task: z.infer<typeof summarizeEvent>,
  deps: BackfillTaskDeps,
): Promise<BackfillSummary> {
  tableOf(deps, task.table);
  const store = deps.bucket(task.mapResults.Bucket);
  const readJson = async (key: string): Promise<unknown> => {
    const body = await store.get(key);
    if (body === undefined) throw new BackfillTaskError(`map results ${key} do not exist`);
    return JSON.parse(Buffer.from(body).toString('utf8')) as unknown;
  };
  const manifest = (await readJson(task.mapResults.Key)) as ResultManifest;
  const summary: BackfillSummary = {
    table: task.table,
    exportArn: task.exportArn,
    dataFiles: 0,
    failedDataFiles: 0,
    records: 0,
    failedRecords: 0,
    lakeFiles: 0,
  };
  for (const file of manifest.ResultFiles?.SUCCEEDED ?? []) {
    for (const entry of (await readJson(file.Key)) as Array<{ Output?: unknown }>) {
      const output = (typeof entry.Output === 'string' ? JSON.parse(entry.Output) : entry.Output) as
        Partial<LandedDataFile> | undefined;
      summary.dataFiles += 1;
      summary.records += output?.records ?? 0;
      summary.failedRecords += output?.failed ?? 0;
      summary.lakeFiles += output?.files ?? 0;
    }
  }
  for (const file of manifest.ResultFiles?.FAILED ?? [])
    summary.failedDataFiles += ((await readJson(file.Key)) as unknown[]).length;
  return summary;
}
