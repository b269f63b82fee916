import {
  DescribeContinuousBackupsCommand,
  DescribeExportCommand,
  DescribeTableCommand,
  ExportTableToPointInTimeCommand,
  UpdateContinuousBackupsCommand,
  type DynamoDBClient,
  type ExportDescription,
  type ExportTableToPointInTimeCommandInput,
} from '@aws-sdk/client-dynamodb';
import type { ObjectStore } from '../ports/object-store.js';
import { exportIdOf } from '../change-stream/export-record.js';
import { ExportUnusableError } from './errors.js';
import { snapshotExportTime } from './export-time.js';
import { exportContextOf, landExport } from './land-export.js';
import { landVanishedKeys, type VanishedKeys } from './vanished-keys.js';
import type { ExportLanding, ExportManifestSummary, LandedExport } from './types.js';

/** What a snapshot or repair needs to know about a table (from `DescribeTable`). */
export interface TableFacts {
  tableArn: string;
  /** Key attribute names: partition key, then sort key. */
  keyAttributes: string[];
  /** Epoch ms the table was created. */
  createdMs: number | undefined;
  /** The table's latest stream, when enabled. */
  streamArn: string | undefined;
}

/**
 * Reads what landing an export of a table needs: its ARN, key attributes, creation time and stream.
 *
 * @example
 * const facts = await describeTableFacts(dynamodb, 'visits'); // { tableArn, keyAttributes: ['id'], … }
 */
export async function describeTableFacts(dynamodb: DynamoDBClient, table: string): Promise<TableFacts> {
  const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: table }));
  if (!Table?.TableArn) throw new Error(`table ${table}: DescribeTable returned no table`);
  const keys = [...(Table.KeySchema ?? [])].sort((a, b) => (a.KeyType === 'HASH' ? -1 : b.KeyType === 'HASH' ? 1 : 0));
  return {
    tableArn: Table.TableArn,
    keyAttributes: keys.map((key) => key.AttributeName!),
    createdMs: Table.CreationDateTime?.getTime(),
    streamArn: Table.StreamSpecification?.StreamEnabled ? Table.LatestStreamArn : undefined,
  };
}

/** Point-in-time recovery of a table: whether it is on and the earliest time an export may read. */
export interface PitrState {
  enabled: boolean;
  /** Epoch ms; undefined when disabled. */
  earliestMs: number | undefined;
}

/**
 * The table's point-in-time recovery (exports need it, and cannot read before its earliest restorable time).
 *
 * @example
 * const { enabled, earliestMs } = await describePitr(dynamodb, 'visits');
 */
export async function describePitr(dynamodb: DynamoDBClient, table: string): Promise<PitrState> {
  const { ContinuousBackupsDescription } = await dynamodb.send(
    new DescribeContinuousBackupsCommand({ TableName: table }),
  );
  const pitr = ContinuousBackupsDescription?.PointInTimeRecoveryDescription;
  const enabled = pitr?.PointInTimeRecoveryStatus === 'ENABLED';
  return { enabled, earliestMs: enabled ? pitr?.EarliestRestorableDateTime?.getTime() : undefined };
}

/**
 * Turns point-in-time recovery on when it is off; returns the state and whether this call enabled it (say so).
 *
 * @example
 * const { enabledNow } = await ensurePitr(dynamodb, 'visits');
 * if (enabledNow) console.error('enabled point-in-time recovery on visits');
 */
export async function ensurePitr(
  dynamodb: DynamoDBClient,
  table: string,
): Promise<PitrState & { enabledNow: boolean }> {
  const state = await describePitr(dynamodb, table);
  if (state.enabled) return { ...state, enabledNow: false };
  await dynamodb.send(
    new UpdateContinuousBackupsCommand({
      TableName: table,
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    }),
  );
  return { ...(await describePitr(dynamodb, table)), enabledNow: true };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The whole-second `ExportTime` of a snapshot ({@link snapshotExportTime}), waiting for the next second when
 * point-in-time recovery was enabled within the current one, or when the time would be before `notBeforeMs` (e.g. when
 * the stream positions were recorded: a point-in-time read before that would miss writes the stream will not replay).
 *
 * @example
 * const exportTime = await awaitSnapshotTime(pitr.earliestMs, Date.now, positionsRecordedAtMs);
 */
export async function awaitSnapshotTime(
  earliestMs: number | undefined,
  now: () => number = Date.now,
  notBeforeMs = 0,
): Promise<Date> {
  for (;;) {
    const time = snapshotExportTime(now(), Math.max(earliestMs ?? 0, notBeforeMs));
    if (time) return time;
    await sleep(Math.max(5, 1000 - (now() % 1000) + 5));
  }
}

/** Where exports go: a bucket (the local S3 stand-in or S3) and a key prefix. */
export interface ExportDestination {
  bucket: string;
  prefix: string;
}

/** Starts an export of `tableArn` to `destination` in DYNAMODB_JSON and returns its ARN. */
async function startExport(
  dynamodb: DynamoDBClient,
  tableArn: string,
  destination: ExportDestination,
  kind: Pick<ExportTableToPointInTimeCommandInput, 'ExportType' | 'ExportTime' | 'IncrementalExportSpecification'>,
): Promise<string> {
  const { ExportDescription } = await dynamodb.send(
    new ExportTableToPointInTimeCommand({
      TableArn: tableArn,
      S3Bucket: destination.bucket,
      S3Prefix: destination.prefix,
      ExportFormat: 'DYNAMODB_JSON',
      ...kind,
    }),
  );
  if (!ExportDescription?.ExportArn) throw new Error('ExportTableToPointInTime returned no export ARN');
  return ExportDescription.ExportArn;
}

/**
 * Starts a FULL export of the table as of `exportTime` (a whole second: see `snapshotExportTime`) and returns its ARN.
 *
 * @example
 * const arn = await startFullExport(dynamodb, facts.tableArn, exportTime, { bucket: 'tributary-backfill', prefix: 'visits' });
 */
export function startFullExport(
  dynamodb: DynamoDBClient,
  tableArn: string,
  exportTime: Date,
  destination: ExportDestination,
): Promise<string> {
  return startExport(dynamodb, tableArn, destination, { ExportType: 'FULL_EXPORT', ExportTime: exportTime });
}

/**
 * Starts an INCREMENTAL export (NEW_AND_OLD_IMAGES) of the window [from, to) and returns its ARN.
 *
 * @example
 * const arn = await startIncrementalExport(dynamodb, facts.tableArn, from, to, { bucket: 'tributary-backfill', prefix: 'visits' });
 */
export function startIncrementalExport(
  dynamodb: DynamoDBClient,
  tableArn: string,
  from: Date,
  to: Date,
  destination: ExportDestination,
): Promise<string> {
  return startExport(dynamodb, tableArn, destination, {
    ExportType: 'INCREMENTAL_EXPORT',
    IncrementalExportSpecification: { ExportFromTime: from, ExportToTime: to, ExportViewType: 'NEW_AND_OLD_IMAGES' },
  });
}

/**
 * Waits until an export has COMPLETED (polling `DescribeExport`, 1 s doubling to 30 s) and returns its description;
 * throws naming the export and its failure code when it FAILED.
 *
 * @example
 * const description = await awaitExport(dynamodb, arn);
 * console.log(description.ExportManifest);
 */
export async function awaitExport(
  dynamodb: DynamoDBClient,
  exportArn: string,
  onWait?: () => void,
): Promise<ExportDescription> {
  let delay = 1000;
  for (;;) {
    let described;
    try {
      described = await dynamodb.send(new DescribeExportCommand({ ExportArn: exportArn }));
    } catch (error) {
      if ((error as Error).name === 'ExportNotFoundException')
        throw new ExportUnusableError(`export ${exportIdOf(exportArn)} no longer exists`);
      throw error;
    }
    const { ExportDescription } = described;
    const status = ExportDescription?.ExportStatus;
    if (status === 'COMPLETED' && ExportDescription?.ExportManifest) return ExportDescription;
    if (status === 'FAILED')
      throw new ExportUnusableError(
        `export ${exportIdOf(exportArn)} failed: ${ExportDescription?.FailureCode ?? 'no failure code'}` +
          (ExportDescription?.FailureMessage ? ` (${ExportDescription.FailureMessage})` : ''),
      );
    onWait?.();
    await sleep(delay);
    delay = Math.min(delay * 2, 30_000);
  }
}

/** Progress of landing an export: ids and counts only. */
export interface LandingProgress {
  exportId: string;
  dataFiles: number;
  totalDataFiles: number;
  records: number;
  failed: number;
}

/**
 * Lands a COMPLETED export in the table's lake partitions ({@link landExport}), reading it from `exportStore(bucket)`.
 *
 * @example
 * const landed = await landCompletedExport(description, { exportStore, keyAttributes: ['id'], table, writer, errors });
 */
export async function landCompletedExport(
  description: ExportDescription,
  options: {
    exportStore: (bucket: string) => ObjectStore;
    keyAttributes: readonly string[];
    table: ExportLanding['table'];
    writer: ExportLanding['writer'];
    errors: ExportLanding['errors'];
    onProgress?: (progress: LandingProgress) => void;
    /**
     * The lake the records land in: after a FULL export, keys it still holds that the snapshot did not read get a
     * delete record ({@link landVanishedKeys}; a local lake only).
     *
     * @default - no delete records
     */
    lake?: ObjectStore | undefined;
  },
): Promise<LandedExport & { summary: ExportManifestSummary; exportId: string; vanished?: VanishedKeys | undefined }> {
  const exportId = exportIdOf(description.ExportArn!);
  const landed = await landExport({
    exportStore: options.exportStore(description.S3Bucket!),
    summaryKey: description.ExportManifest!,
    keyAttributes: options.keyAttributes,
    table: options.table,
    writer: options.writer,
    errors: options.errors,
    onProgress: (progress) => options.onProgress?.({ exportId, ...progress }),
  });
  if (options.lake === undefined || landed.summary.exportType !== 'FULL_EXPORT') return { ...landed, exportId };
  // A rejected line is an item the table has but the lake did not get: it must not look deleted.
  if (landed.failed > 0)
    return {
      ...landed,
      exportId,
      vanished: { deleted: 0, failed: 0, skipped: `${landed.failed} export line(s) rejected` },
    };
  const vanished = await landVanishedKeys({
    lake: options.lake,
    table: options.table,
    exportId,
    exportTime: exportContextOf(landed.summary, options.keyAttributes).exportTime,
    writer: options.writer,
    errors: options.errors,
  });
  return { ...landed, exportId, vanished };
}

/** What {@link takeSnapshot} did: ids and counts only. */
export interface SnapshotResult {
  exportId: string;
  exportTime: Date;
  dataFiles: number;
  records: number;
  failed: number;
  /** Point-in-time recovery was off and this call enabled it. */
  enabledPitr: boolean;
  /** Keys the lake held that the snapshot did not: landed as deletes. */
  vanished: number;
}

/**
 * A FULL snapshot of a table into its lake partitions, on demand: point-in-time recovery on (if it was off), an export
 * at a whole second ({@link awaitSnapshotTime}), then landed as `r` records through the table's partitioning.
 *
 * @example
 * const result = await takeSnapshot({ dynamodb, table, destination, exportStore, writer, errors, log: console.error });
 */
export async function takeSnapshot(options: {
  dynamodb: DynamoDBClient;
  table: ExportLanding['table'];
  destination: ExportDestination;
  exportStore: (bucket: string) => ObjectStore;
  writer: ExportLanding['writer'];
  errors: ExportLanding['errors'];
  onProgress?: (progress: LandingProgress) => void;
  /** The lake, for delete records of keys the snapshot no longer holds (see {@link landCompletedExport}). */
  lake?: ObjectStore | undefined;
  /** Called once the export has started (its id and time). */
  onStarted?: (started: { exportId: string; exportTime: Date; enabledPitr: boolean }) => void;
}): Promise<SnapshotResult> {
  const { dynamodb, table } = options;
  const facts = await describeTableFacts(dynamodb, table.name);
  const pitr = await ensurePitr(dynamodb, table.name);
  const exportTime = await awaitSnapshotTime(pitr.earliestMs);
  const exportArn = await startFullExport(dynamodb, facts.tableArn, exportTime, options.destination);
  options.onStarted?.({ exportId: exportIdOf(exportArn), exportTime, enabledPitr: pitr.enabledNow });
  const description = await awaitExport(dynamodb, exportArn);
  const landed = await landCompletedExport(description, {
    exportStore: options.exportStore,
    keyAttributes: facts.keyAttributes,
    table,
    writer: options.writer,
    errors: options.errors,
    lake: options.lake,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  return {
    vanished: landed.vanished?.deleted ?? 0,
    exportId: landed.exportId,
    exportTime,
    dataFiles: landed.dataFiles,
    records: landed.records,
    failed: landed.failed,
    enabledPitr: pitr.enabledNow,
  };
}
