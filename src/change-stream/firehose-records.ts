import type { FirehoseTransformationEventRecord, FirehoseTransformationResultRecord } from 'aws-lambda';
import { sanitiseSegment, lakeLayout } from '../lake/layout.js';
import { changeRecordsForBatch, type ChangeStreamTableConfig, type FailedChange } from './process-batch.js';
import { DEFAULT_PARTITION_BY } from './partitions.js';

/** A record Firehose could not use, for logging (ids and reasons only). */
export interface FirehoseFailure {
  recordId: string;
  eventId: string | undefined;
  errorType: string;
  reason: string;
}

/** Result of {@link transformFirehoseRecords}. */
export interface FirehoseTransformOutcome {
  records: FirehoseTransformationResultRecord[];
  failures: FirehoseFailure[];
}

function decode(data: string): unknown {
  return JSON.parse(Buffer.from(data, 'base64').toString('utf8'));
}

/**
 * Firehose data transformation for records a pipe delivers (one DynamoDB stream record JSON each):
 * `Ok` with `base64(line + '\n')` and `metadata.partitionKeys` (sanitised values, same partitioning
 * as the local lake), or `ProcessingFailed` with the original data. Never throws for a bad record.
 *
 * @example
 * const { records } = transformFirehoseRecords(event.records, { name: 'Visits', pipe: { partitionBy: ['siteId', 'year'] } });
 */
export function transformFirehoseRecords(
  input: readonly FirehoseTransformationEventRecord[],
  table: ChangeStreamTableConfig,
): FirehoseTransformOutcome {
  const records: FirehoseTransformationResultRecord[] = [];
  const failures: FirehoseFailure[] = [];
  const failedResult = (record: FirehoseTransformationEventRecord, failure: Omit<FailedChange, 'raw'>) => {
    failures.push({
      recordId: record.recordId,
      eventId: failure.eventId,
      errorType: failure.errorType,
      reason: failure.reason,
    });
    records.push({ recordId: record.recordId, result: 'ProcessingFailed', data: record.data });
  };
  for (const record of input) {
    let parsed: unknown;
    try {
      parsed = decode(record.data);
    } catch {
      failedResult(record, { eventId: undefined, errorType: 'InvalidJson', reason: 'data is not base64 JSON' });
      continue;
    }
    const { ok, failed } = changeRecordsForBatch([parsed], table);
    const change = ok[0];
    if (change === undefined) {
      failedResult(record, failed[0] ?? { eventId: undefined, errorType: 'UnexpectedError', reason: 'no result' });
      continue;
    }
    const partitionKeys: Record<string, string> = {};
    for (const [name, value] of change.partitions) partitionKeys[name] = sanitiseSegment(value);
    records.push({
      recordId: record.recordId,
      result: 'Ok',
      data: Buffer.from(`${change.line}\n`, 'utf8').toString('base64'),
      metadata: { partitionKeys },
    });
  }
  return { records, failures };
}

/**
 * The Firehose S3 prefix matching {@link transformFirehoseRecords}' partition keys, for CDK:
 * `changes/<table>/siteId=!{partitionKeyFromLambda:siteId}/year=!{partitionKeyFromLambda:year}/`.
 *
 * @example
 * firehosePrefix('Visits', ['siteId', 'year']) // 'changes/Visits/siteId=!{partitionKeyFromLambda:siteId}/year=!{partitionKeyFromLambda:year}/'
 */
export function firehosePrefix(table: string, partitionBy: readonly string[] = DEFAULT_PARTITION_BY): string {
  return (
    lakeLayout.changes(table) +
    partitionBy.map((name) => `${sanitiseSegment(name)}=!{partitionKeyFromLambda:${name}}/`).join('')
  );
}
