import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DirectoryObjectStore } from '../object-store/directory-object-store.js';
import type { BufferedResponse } from './dynalite-backend.js';
import { AwsWireError, validationError } from './errors.js';
import type { ClientRequest, ProxyContext } from './proxy-context.js';
import { canonicalJson } from './stream-record.js';
import type { KeySchemaElement, StreamInfo, StreamRecord, WireItem } from './types.js';
import { isOk, jsonResponse } from './wire-response.js';

const DEFAULT_RECOVERY_DAYS = 35;
const SCAN_PAGE = 1000;
const RECORD_PAGE = 1000;
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

interface TableInfo {
  tableName: string;
  tableId: string;
  tableArn: string;
  keySchema: KeySchemaElement[];
}

type ExportType = 'FULL_EXPORT' | 'INCREMENTAL_EXPORT';
type ExportViewType = 'NEW_AND_OLD_IMAGES' | 'NEW_IMAGE';

/** What an export wrote: its data files and item count. */
interface Written {
  itemCount: number;
  billedSizeBytes: number;
  manifestSummaryKey: string;
}

/**
 * Point-in-time recovery (`UpdateContinuousBackups`, `DescribeContinuousBackups`) and exports to S3
 * (`ExportTableToPointInTime`, `DescribeExport`, `ListExports`), which dynalite lacks. Exports run
 * synchronously into the local S3 stand-in (`<bucketsDir>/<bucket>/<prefix>/AWSDynamoDB/<exportId>/…`)
 * in AWS's DYNAMODB_JSON layout; the export call answers `IN_PROGRESS`, later calls see `COMPLETED`.
 * A FULL export holds the table's write lock while it scans: it is the table as of now (the
 * requested `ExportTime` is recorded, not replayed). An INCREMENTAL export is built from the table's
 * NEW_AND_OLD_IMAGES stream records in the window (second resolution, as their timestamps), read from
 * the stream store itself: records past the stream retention (trimmed from the Streams API) still
 * count, as the store keeps them for the point-in-time recovery window. The embedded DynamoDB only
 * knows the changes its streams captured: a window that a NEW_AND_OLD_IMAGES stream did not cover
 * throughout (it starts before the stream was enabled, e.g. PITR was enabled first, or spans a time
 * the stream was disabled) is refused with a ValidationException naming the uncovered time.
 *
 * @example
 * const exports = new TableExports(context);
 * const response = await exports.exportTable(request);
 */
export class TableExports {
  public constructor(private readonly context: ProxyContext) {}

  public async updateContinuousBackups(request: ClientRequest): Promise<BufferedResponse> {
    const tableName = requireString(request.input, 'TableName');
    const spec = request.input['PointInTimeRecoverySpecification'] as Record<string, unknown> | undefined;
    const enabled = spec?.['PointInTimeRecoveryEnabled'];
    if (typeof enabled !== 'boolean') {
      throw validationError(
        "1 validation error detected: Value null at 'pointInTimeRecoverySpecification.pointInTimeRecoveryEnabled' failed to satisfy constraint: Member must not be null",
      );
    }
    const days = spec?.['RecoveryPeriodInDays'] ?? DEFAULT_RECOVERY_DAYS;
    if (typeof days !== 'number' || !Number.isInteger(days) || days < 1 || days > DEFAULT_RECOVERY_DAYS) {
      throw validationError('RecoveryPeriodInDays must be an integer between 1 and 35');
    }
    const table = await this.table(tableName);
    this.context.store.setPitr(table.tableName, table.tableId, enabled ? { recoveryDays: days } : undefined);
    return jsonResponse(200, { ContinuousBackupsDescription: this.continuousBackups(table) });
  }

  public async describeContinuousBackups(request: ClientRequest): Promise<BufferedResponse> {
    const table = await this.table(requireString(request.input, 'TableName'));
    return jsonResponse(200, { ContinuousBackupsDescription: this.continuousBackups(table) });
  }

  public async exportTable(request: ClientRequest): Promise<BufferedResponse> {
    const input = request.input;
    const tableArn = requireString(input, 'TableArn');
    const bucket = requireString(input, 'S3Bucket');
    const tableName = /^arn:aws[a-z-]*:dynamodb:[^:]*:[^:]*:table\/([A-Za-z0-9_.-]{3,255})$/.exec(tableArn)?.[1];
    if (!tableName) throw validationError(`Invalid TableArn: ${tableArn}`);
    const format = input['ExportFormat'] ?? 'DYNAMODB_JSON';
    if (format !== 'DYNAMODB_JSON') {
      throw validationError(
        `ExportFormat ${String(format)} is not supported by the local DynamoDB (DYNAMODB_JSON only)`,
      );
    }
    const exportType = (input['ExportType'] ?? 'FULL_EXPORT') as ExportType;
    if (exportType !== 'FULL_EXPORT' && exportType !== 'INCREMENTAL_EXPORT') {
      throw validationError(`Invalid ExportType: ${String(exportType)}`);
    }
    const prefix = input['S3Prefix'];
    if (prefix !== undefined && (typeof prefix !== 'string' || prefix.split('/').some((part) => part === '..'))) {
      throw validationError(`Invalid S3Prefix: ${String(prefix)}`);
    }
    const clientToken = typeof input['ClientToken'] === 'string' ? input['ClientToken'] : undefined;
    const requestText = canonicalJson({ ...input, ClientToken: undefined });
    if (clientToken) {
      const previous = this.context.store.findExport({ tableArn, clientToken });
      if (previous) {
        if (previous.request !== requestText) {
          throw new AwsWireError(
            'ExportConflictException',
            `Export with ClientToken ${clientToken} already exists with different parameters`,
          );
        }
        return jsonResponse(200, { ExportDescription: previous.description });
      }
    }

    const table = await this.table(tableName, tableArn);
    const pitr = this.context.store.pitr(table.tableName, table.tableId);
    if (!pitr) {
      throw new AwsWireError(
        'PointInTimeRecoveryUnavailableException',
        `Point in time recovery is not enabled for table '${table.tableName}'`,
      );
    }
    if (!this.context.bucketsDir) {
      throw validationError(
        'The local DynamoDB was started without a buckets directory: exports to S3 are unavailable',
      );
    }
    if (!BUCKET_NAME.test(bucket)) throw validationError(`Invalid S3Bucket: ${bucket}`);

    const nowMs = Date.now();
    const earliestMs = Math.max(pitr.enabledMs, nowMs - pitr.recoveryDays * 86_400_000);
    const exportId = `${String(nowMs).padStart(14, '0')}-${randomBytes(4).toString('hex')}`;
    const exportArn = `${table.tableArn}/export/${exportId}`;
    const base = `${typeof prefix === 'string' && prefix ? `${prefix.replace(/\/+$/, '')}/` : ''}AWSDynamoDB/${exportId}`;
    const description: Record<string, unknown> = {
      ExportArn: exportArn,
      ExportStatus: 'IN_PROGRESS',
      StartTime: nowMs / 1000,
      TableArn: table.tableArn,
      TableId: table.tableId,
      ...(clientToken ? { ClientToken: clientToken } : {}),
      S3Bucket: bucket,
      ...(typeof input['S3BucketOwner'] === 'string' ? { S3BucketOwner: input['S3BucketOwner'] } : {}),
      ...(typeof prefix === 'string' ? { S3Prefix: prefix } : {}),
      S3SseAlgorithm: typeof input['S3SseAlgorithm'] === 'string' ? input['S3SseAlgorithm'] : 'AES256',
      ...(typeof input['S3SseKmsKeyId'] === 'string' ? { S3SseKmsKeyId: input['S3SseKmsKeyId'] } : {}),
      ExportFormat: 'DYNAMODB_JSON',
      ExportType: exportType,
    };
    const objects = new DirectoryObjectStore(join(this.context.bucketsDir, bucket));
    const summary: Record<string, unknown> = {
      version: exportType === 'FULL_EXPORT' ? '2020-06-30' : '2023-08-01',
      exportArn,
      startTime: iso(nowMs),
      endTime: '',
      tableArn: table.tableArn,
      tableId: table.tableId,
      s3Bucket: bucket,
      s3Prefix: typeof prefix === 'string' ? prefix : null,
      s3SseAlgorithm: description['S3SseAlgorithm'],
      s3SseKmsKeyId: description['S3SseKmsKeyId'] ?? null,
      manifestFilesS3Key: `${base}/manifest-files.json`,
      billedSizeBytes: 0,
      itemCount: 0,
      outputFormat: 'DYNAMODB_JSON',
      exportType,
    };

    let lines: string[];
    if (exportType === 'FULL_EXPORT') {
      const exportMs = input['ExportTime'] === undefined ? nowMs : toMs(input['ExportTime'], 'ExportTime');
      if (exportMs > nowMs) throw new AwsWireError('InvalidExportTimeException', 'Export time is in the future');
      if (exportMs < earliestMs) {
        throw new AwsWireError(
          'InvalidExportTimeException',
          'Export time is before the earliest restorable time of point in time recovery',
        );
      }
      description['ExportTime'] = exportMs / 1000;
      summary['exportTime'] = iso(exportMs);
      lines = await this.context.tableLocks.run([table.tableName], () => this.scanLines(table.tableName));
    } else {
      const spec = (input['IncrementalExportSpecification'] ?? {}) as Record<string, unknown>;
      if (spec['ExportFromTime'] === undefined) {
        throw validationError('IncrementalExportSpecification.ExportFromTime is required for an incremental export');
      }
      const fromMs = toMs(spec['ExportFromTime'], 'ExportFromTime');
      const toTimeMs = spec['ExportToTime'] === undefined ? nowMs : toMs(spec['ExportToTime'], 'ExportToTime');
      const viewType = (spec['ExportViewType'] ?? 'NEW_AND_OLD_IMAGES') as ExportViewType;
      if (viewType !== 'NEW_AND_OLD_IMAGES' && viewType !== 'NEW_IMAGE') {
        throw validationError(`Invalid ExportViewType: ${String(viewType)}`);
      }
      if (fromMs >= toTimeMs) throw validationError('ExportFromTime must be before ExportToTime');
      if (toTimeMs > nowMs) throw new AwsWireError('InvalidExportTimeException', 'Export to time is in the future');
      if (fromMs < earliestMs) {
        throw new AwsWireError(
          'InvalidExportTimeException',
          'Export from time is before the earliest restorable time of point in time recovery',
        );
      }
      description['IncrementalExportSpecification'] = {
        ExportFromTime: fromMs / 1000,
        ExportToTime: toTimeMs / 1000,
        ExportViewType: viewType,
      };
      summary['exportFromTime'] = iso(fromMs);
      summary['exportToTime'] = iso(toTimeMs);
      summary['outputView'] = viewType;
      lines = this.incrementalLines(table, fromMs, toTimeMs, viewType);
    }

    const started = { ...description };
    const written = await writeExport(objects, base, lines, summary);
    const endMs = Date.now();
    summary['endTime'] = iso(endMs);
    const completed = {
      ...description,
      ExportStatus: 'COMPLETED',
      EndTime: endMs / 1000,
      ExportManifest: written.manifestSummaryKey,
      BilledSizeBytes: written.billedSizeBytes,
      ItemCount: written.itemCount,
    };
    this.context.store.saveExport({
      exportArn,
      tableArn: table.tableArn,
      clientToken,
      request: requestText,
      description: completed,
    });
    return jsonResponse(200, { ExportDescription: started });
  }

  public describeExport(request: ClientRequest): Promise<BufferedResponse> {
    const exportArn = requireString(request.input, 'ExportArn');
    const found = this.context.store.findExport({ exportArn });
    if (!found) throw new AwsWireError('ExportNotFoundException', `Export not found: ${exportArn}`);
    return Promise.resolve(jsonResponse(200, { ExportDescription: found.description }));
  }

  public listExports(request: ClientRequest): Promise<BufferedResponse> {
    const tableArn = request.input['TableArn'];
    const max = request.input['MaxResults'] ?? 25;
    if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > 25) {
      throw validationError('MaxResults must be an integer between 1 and 25');
    }
    const all = this.context.store.listExports(typeof tableArn === 'string' ? tableArn : undefined);
    const token = request.input['NextToken'];
    let start = 0;
    if (typeof token === 'string') {
      start = all.findIndex((d) => d['ExportArn'] === token) + 1;
      if (start === 0) throw validationError('Invalid NextToken');
    }
    const page = all.slice(start, start + max);
    const more = start + max < all.length;
    return Promise.resolve(
      jsonResponse(200, {
        ExportSummaries: page.map((d) => ({
          ExportArn: d['ExportArn'],
          ExportStatus: d['ExportStatus'],
          ExportType: d['ExportType'],
        })),
        ...(more && page.length ? { NextToken: page[page.length - 1]?.['ExportArn'] } : {}),
      }),
    );
  }

  private continuousBackups(table: TableInfo): Record<string, unknown> {
    const pitr = this.context.store.pitr(table.tableName, table.tableId);
    if (!pitr) {
      return {
        ContinuousBackupsStatus: 'ENABLED',
        PointInTimeRecoveryDescription: { PointInTimeRecoveryStatus: 'DISABLED' },
      };
    }
    const nowMs = Date.now();
    return {
      ContinuousBackupsStatus: 'ENABLED',
      PointInTimeRecoveryDescription: {
        PointInTimeRecoveryStatus: 'ENABLED',
        RecoveryPeriodInDays: pitr.recoveryDays,
        EarliestRestorableDateTime: Math.max(pitr.enabledMs, nowMs - pitr.recoveryDays * 86_400_000) / 1000,
        LatestRestorableDateTime: nowMs / 1000,
      },
    };
  }

  /** The table, or AWS's `TableNotFoundException`. */
  private async table(tableName: string, shownAs = tableName): Promise<TableInfo> {
    const described = await this.context.backend.call<{
      Table?: { TableName: string; TableId: string; KeySchema: KeySchemaElement[] };
      __type?: string;
    }>('DescribeTable', { TableName: tableName });
    const table = described.body.Table;
    if (!isOk(described) || !table) {
      if (described.body.__type?.endsWith('#ResourceNotFoundException')) {
        throw new AwsWireError('TableNotFoundException', `Table not found: ${shownAs}`);
      }
      throw new AwsWireError('InternalServerError', 'Internal server error', 500);
    }
    return {
      tableName: table.TableName,
      tableId: table.TableId,
      tableArn: `arn:aws:dynamodb:${this.context.region}:${this.context.accountId}:table/${table.TableName}`,
      keySchema: table.KeySchema,
    };
  }

  /** Every item of the table as a FULL export line, by consistent scans. */
  private async scanLines(tableName: string): Promise<string[]> {
    const lines: string[] = [];
    let startKey: WireItem | undefined;
    do {
      const page = await this.context.backend.call<{ Items?: WireItem[]; LastEvaluatedKey?: WireItem }>('Scan', {
        TableName: tableName,
        ConsistentRead: true,
        Limit: SCAN_PAGE,
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      });
      if (!isOk(page)) throw new AwsWireError('InternalServerError', 'Internal server error', 500);
      for (const item of page.body.Items ?? []) lines.push(JSON.stringify({ Item: item }));
      startKey = page.body.LastEvaluatedKey;
    } while (startKey);
    return lines;
  }

  /** Per changed key, its change over [fromMs, toMs) as an INCREMENTAL export line, from the stream records. */
  private incrementalLines(table: TableInfo, fromMs: number, toMs: number, viewType: ExportViewType): string[] {
    const records: StreamRecord[] = [];
    const streams = streamsCovering(this.context.store.listStreams(table.tableName), table.tableId, fromMs, toMs);
    for (const stream of streams) {
      // Records appended before the window cannot be in it: a record's time is never after its appending.
      let after: bigint | undefined = stream.startSeq - 1n;
      while (after !== undefined) {
        const page = this.context.store.readAppendedSince(stream.streamArn, after, fromMs, RECORD_PAGE);
        records.push(...page.records);
        after = page.next;
      }
    }
    const position = (record: StreamRecord) => BigInt(record.dynamodb.SequenceNumber);
    records.sort((a, b) => (position(a) < position(b) ? -1 : position(a) > position(b) ? 1 : 0));
    const changes = new Map<string, { keys: WireItem; oldImage?: WireItem; newImage?: WireItem; micros: number }>();
    for (const record of records) {
      const ms = record.dynamodb.ApproximateCreationDateTime * 1000;
      if (ms < fromMs || ms >= toMs) continue;
      const key = canonicalJson(record.dynamodb.Keys);
      const previous = changes.get(key);
      const change: { keys: WireItem; oldImage?: WireItem; newImage?: WireItem; micros: number } = {
        keys: record.dynamodb.Keys,
        micros: ms * 1000,
      };
      const oldImage = previous ? previous.oldImage : record.dynamodb.OldImage;
      if (oldImage) change.oldImage = oldImage;
      if (record.dynamodb.NewImage) change.newImage = record.dynamodb.NewImage;
      changes.set(key, change);
    }
    return [...changes.values()].map((change) =>
      JSON.stringify({
        Metadata: { WriteTimestampMicros: { N: String(change.micros) } },
        Keys: change.keys,
        ...(change.newImage ? { NewImage: change.newImage } : {}),
        ...(viewType === 'NEW_AND_OLD_IMAGES' && change.oldImage ? { OldImage: change.oldImage } : {}),
      }),
    );
  }
}

/**
 * The table incarnation's streams that overlap [fromMs, toMs). They must cover it without a gap, all
 * NEW_AND_OLD_IMAGES: otherwise some change of the window was never captured, and the export is refused.
 */
function streamsCovering(all: readonly StreamInfo[], tableId: string, fromMs: number, toMs: number): StreamInfo[] {
  const ofTable = all.filter((s) => s.tableId === tableId).sort((a, b) => a.createdMs - b.createdMs);
  const spans = ofTable.map((stream, i) => ({
    stream,
    // A stream disabled before its disabling time was stored: assume it lasted until the next one.
    endMs: stream.enabled
      ? Number.POSITIVE_INFINITY
      : (stream.disabledMs ?? ofTable[i + 1]?.createdMs ?? Number.POSITIVE_INFINITY),
  }));
  const overlapping = spans.filter(({ stream, endMs }) => stream.createdMs < toMs && endMs > fromMs);
  let coveredTo = fromMs;
  let gapTo = toMs;
  for (const { stream, endMs } of overlapping) {
    if (stream.createdMs > coveredTo) {
      gapTo = stream.createdMs;
      break;
    }
    coveredTo = Math.max(coveredTo, endMs);
  }
  if (coveredTo < toMs) {
    throw validationError(
      `The local DynamoDB builds incremental exports from the stream records it captured: no stream of the table captured its changes from ${iso(coveredTo)} to ${iso(Math.min(gapTo, toMs))} (the export period needs a NEW_AND_OLD_IMAGES stream enabled throughout)`,
    );
  }
  const other = overlapping.find(({ stream }) => stream.viewType !== 'NEW_AND_OLD_IMAGES');
  if (other) {
    throw validationError(
      `The local DynamoDB builds incremental exports from the stream records it captured: the table's stream was ${other.stream.viewType} during the export period (it needs NEW_AND_OLD_IMAGES)`,
    );
  }
  return overlapping.map(({ stream }) => stream);
}

/** Writes `_started`, one gzipped data file (when there are lines) and both manifests. */
async function writeExport(
  objects: DirectoryObjectStore,
  base: string,
  lines: string[],
  summary: Record<string, unknown>,
): Promise<Written> {
  await objects.put(`${base}/_started`, Buffer.alloc(0));
  const manifestLines: string[] = [];
  let billedSizeBytes = 0;
  if (lines.length) {
    const text = Buffer.from(`${lines.join('\n')}\n`);
    billedSizeBytes = text.length;
    const gz = gzipSync(text);
    const dataKey = `${base}/data/${randomBytes(13).toString('base64url').toLowerCase().slice(0, 26)}.json.gz`;
    await objects.put(dataKey, gz);
    manifestLines.push(
      JSON.stringify({
        itemCount: lines.length,
        md5Checksum: createHash('md5').update(gz).digest('base64'),
        etag: createHash('md5').update(gz).digest('hex'),
        dataFileS3Key: dataKey,
      }),
    );
  }
  await objects.put(`${base}/manifest-files.json`, Buffer.from(manifestLines.map((l) => `${l}\n`).join('')));
  summary['billedSizeBytes'] = billedSizeBytes;
  summary['itemCount'] = lines.length;
  summary['endTime'] = iso(Date.now());
  const manifestSummaryKey = `${base}/manifest-summary.json`;
  await objects.put(manifestSummaryKey, Buffer.from(JSON.stringify(summary)));
  return { itemCount: lines.length, billedSizeBytes, manifestSummaryKey };
}

function requireString(input: Record<string, unknown>, name: string): string {
  const value = input[name];
  if (typeof value !== 'string' || !value) {
    throw validationError(
      `1 validation error detected: Value null at '${name.charAt(0).toLowerCase()}${name.slice(1)}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
}

/** A wire timestamp (epoch seconds, possibly fractional) in epoch milliseconds. */
function toMs(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw validationError(`Invalid ${name}`);
  return Math.round(value * 1000);
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
