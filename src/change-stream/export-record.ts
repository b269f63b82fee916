import { createHash } from 'node:crypto';
import { InvalidStreamRecordError } from './errors.js';
import { eventTimeMs } from './event-time.js';
import type { TimedChangeRecord } from './change-record.js';
import { DEFAULT_PARTITION_BY } from './partitions.js';
import { failedChange, processedChange } from './process-batch.js';
import type { BatchResult, ChangeStreamTableConfig, FailedChange, ProcessedChange } from './process-batch.js';
import type { AttributeMap, ChangeRecord, EventTimeSource } from './types.js';
import { unmarshallItem } from './unmarshall.js';

/** What a line of a DynamoDB export needs from its export: from `DescribeExport` and the table's key schema. */
export interface ExportContext {
  /** The export's id: the last segment of its ARN. */
  exportId: string;
  exportType: 'FULL_EXPORT' | 'INCREMENTAL_EXPORT';
  /** FULL: the time the export reads the table as of (ISO-8601); the `ts` and source time of its `r` records. */
  exportTime: string;
  /** The table's key attribute names (partition key, then sort key): a FULL export's lines hold whole items only. */
  keyAttributes: readonly string[];
}

/** Options of {@link toExportChangeRecord}. */
export interface ExportRecordOptions {
  table: string;
  export: ExportContext;
  /** The table's event-time attribute, for the `ts` of an INCREMENTAL export's records (as for stream records). */
  eventTime?: EventTimeSource | undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The id of an export, from its ARN (`arn:aws:dynamodb:…:table/T/export/01700000000000-abcd1234`).
 *
 * @example
 * exportIdOf('arn:aws:dynamodb:us-east-1:1:table/Visits/export/01700000000000-abcd1234') // '01700000000000-abcd1234'
 */
export function exportIdOf(exportArn: string): string {
  const id = exportArn.slice(exportArn.lastIndexOf('/') + 1);
  if (id === '' || !exportArn.includes('/export/')) throw new RangeError('not an export ARN');
  return id;
}

/** A deterministic event id: the same key of the same export always gets the same id (replays overwrite). */
function exportEventId(exportId: string, keys: AttributeMap): string {
  const canonical = JSON.stringify(
    Object.keys(keys)
      .sort()
      .map((name) => [name, keys[name]]),
  );
  return `${exportId}-${createHash('sha256').update(canonical).digest('hex').slice(0, 24)}`;
}

function keysOf(item: AttributeMap, keyAttributes: readonly string[]): AttributeMap {
  const keys: AttributeMap = {};
  for (const name of keyAttributes) {
    const value = item[name];
    if (value === undefined) throw new InvalidStreamRecordError(`the item lacks key attribute ${name}`);
    keys[name] = value;
  }
  return keys;
}

function image(value: unknown, which: string): AttributeMap | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw new InvalidStreamRecordError(`${which} must be an object`);
  return value as AttributeMap;
}

/**
 * One line of a DynamoDB export in `DYNAMODB_JSON` format as a change record (with its event time).
 *
 * - FULL (`{"Item": …}`): op `r`, `after` the item, `before` null, `ts` and `source.time` the export time,
 *   `source: {kind: 'snapshot', exportId}`.
 * - INCREMENTAL (`{"Metadata": {"WriteTimestampMicros": …}, "Keys", "NewImage"?, "OldImage"?}`): the item's net change
 *   in the window — `d` without a new image, `c` without an old one (NEW_AND_OLD_IMAGES), else `u`; `source.time` the
 *   last write's time, `ts` that time or the table's `eventTime` attribute; `source: {kind: 'incremental-export'}`.
 *
 * `seq` is null and `eventId` is `<exportId>-<hash of the keys>`. Throws a `ChangeRecordError` subclass with a PHI-free
 * reason when the line is unusable.
 *
 * @example
 * const { record } = toExportChangeRecord('{"Item":{"id":{"S":"1"}}}', {
 *   table: 'Visits',
 *   export: { exportId: 'e1', exportType: 'FULL_EXPORT', exportTime: '2024-01-01T00:00:00.000Z', keyAttributes: ['id'] },
 * }); // record.op === 'r'
 */
export function toExportChangeRecord(line: string | unknown, options: ExportRecordOptions): TimedChangeRecord {
  let parsed: unknown = line;
  if (typeof line === 'string') {
    try {
      // DYNAMODB_JSON holds numbers as strings ({"N": "…"}): a plain parse loses no digit.
      parsed = JSON.parse(line);
    } catch {
      throw new InvalidStreamRecordError('an export line must be JSON');
    }
  }
  if (!isObject(parsed)) throw new InvalidStreamRecordError('an export line must be a JSON object');
  const { exportId, exportType } = options.export;
  if (exportType === 'FULL_EXPORT') {
    const item = image(parsed['Item'], 'Item');
    if (item === undefined) throw new InvalidStreamRecordError('a FULL export line has no Item');
    const keys = keysOf(item, options.export.keyAttributes);
    const eventTime = new Date(options.export.exportTime);
    if (Number.isNaN(eventTime.getTime())) throw new InvalidStreamRecordError('the export time is not a time');
    const time = eventTime.toISOString();
    const record: ChangeRecord = {
      op: 'r',
      table: options.table,
      keys: unmarshallItem(keys),
      before: null,
      after: unmarshallItem(item),
      eventId: exportEventId(exportId, keys),
      seq: null,
      ts: time,
      source: { kind: 'snapshot', exportId, time },
    };
    return { record, eventTime };
  }
  const keys = image(parsed['Keys'], 'Keys');
  if (keys === undefined) throw new InvalidStreamRecordError('an INCREMENTAL export line has no Keys');
  const newImage = image(parsed['NewImage'], 'NewImage');
  const oldImage = image(parsed['OldImage'], 'OldImage');
  const metadata = image(parsed['Metadata'], 'Metadata');
  const micros = metadata?.['WriteTimestampMicros']?.N;
  if (typeof micros !== 'string' || !/^\d+$/.test(micros))
    throw new InvalidStreamRecordError('Metadata.WriteTimestampMicros is missing');
  const writeTime = new Date(Math.floor(Number(micros) / 1000));
  const op = newImage === undefined ? 'd' : oldImage === undefined ? 'c' : 'u';
  const eventTime =
    options.eventTime === undefined
      ? writeTime
      : new Date(
          eventTimeMs(
            { eventName: op === 'd' ? 'REMOVE' : 'MODIFY', dynamodb: { NewImage: newImage, OldImage: oldImage } },
            options.eventTime,
          ),
        );
  const record: ChangeRecord = {
    op,
    table: options.table,
    keys: unmarshallItem(keys),
    before: oldImage === undefined ? null : unmarshallItem(oldImage),
    after: newImage === undefined ? null : unmarshallItem(newImage),
    eventId: exportEventId(exportId, keys),
    seq: null,
    ts: eventTime.toISOString(),
    source: { kind: 'incremental-export', exportId, time: writeTime.toISOString() },
  };
  return { record, eventTime };
}

/**
 * Like `changeRecordsForBatch`, for the lines of a DynamoDB export's data file (`DYNAMODB_JSON`): FULL lines become
 * `r` records, INCREMENTAL lines `c`/`u`/`d` (see {@link toExportChangeRecord}), partitioned and serialised as stream
 * records are. A bad line lands in `failed` with a PHI-free reason; it never fails the batch.
 *
 * @example
 * const { ok, failed } = changeRecordsForExportLines(lines, { name: 'Visits' }, exportContext);
 */
export function changeRecordsForExportLines(
  lines: readonly string[],
  table: ChangeStreamTableConfig,
  context: ExportContext,
): BatchResult {
  const spec = table.pipe?.partitionBy ?? DEFAULT_PARTITION_BY;
  const options = { table: table.name, export: context, eventTime: table.pipe?.eventTime };
  const ok: ProcessedChange[] = [];
  const failed: FailedChange[] = [];
  for (const line of lines) {
    try {
      const { record, eventTime } = toExportChangeRecord(line, options);
      ok.push(processedChange(record, spec, eventTime));
    } catch (error) {
      failed.push(failedChange(error, line, undefined));
    }
  }
  return { ok, failed };
}
