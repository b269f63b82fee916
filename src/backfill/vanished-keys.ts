import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'lossless-json';
import { DEFAULT_PARTITION_BY } from '../change-stream/partitions.js';
import { failedChange, processedChange } from '../change-stream/process-batch.js';
import type { BatchResult, ChangeStreamTableConfig } from '../change-stream/process-batch.js';
import { ChangeRecordError } from '../change-stream/errors.js';
import type { ChangeRecord, PlainItem } from '../change-stream/types.js';
import { changeOrderSql, snapshotOrderKey } from '../lake/change-order.js';
import type { ErrorSink } from '../lake/error-sink.js';
import { landProcessedChanges } from '../lake/land-change-batch.js';
import { lakeLayout } from '../lake/layout.js';
import type { PartitionedNdjsonWriter } from '../lake/partitioned-ndjson-writer.js';
import type { ObjectStore } from '../ports/object-store.js';
import { quoteLiteral, quotePath } from '../query/sql-text.js';

/** What {@link landVanishedKeys} did: counts only. */
export interface VanishedKeys {
  /** Keys the lake still held that the snapshot did not: each got a delete record. */
  deleted: number;
  /** Of those, records the error location took instead (e.g. a partition attribute missing from the last image). */
  failed: number;
  /** Why no key was checked (e.g. some snapshot lines were rejected, so absence proves nothing). */
  skipped?: string;
}

/**
 * After a FULL snapshot has landed: a key the lake still holds (its latest record is not a delete) whose latest record
 * is older than the snapshot, and that the snapshot did not read, was deleted before the snapshot — typically while a
 * pipe was down past the stream's retention, so its delete record was trimmed. Each gets a `d` record at the snapshot
 * time (`source: {kind: 'snapshot', exportId}`, `before` its last image, deterministic `eventId`), through the table's
 * partitioning and the same writer, so the current state equals the table. Reads the lake's change files with DuckDB,
 * so it needs a local lake (`file://`); for another store it does nothing and returns undefined.
 *
 * Images come back through DuckDB's JSON reader: integers keep every digit, but a fraction in a `before` image keeps 15
 * significant digits.
 *
 * @example
 * const vanished = await landVanishedKeys({ lake, table, exportId, exportTime, writer, errors });
 */
export async function landVanishedKeys(options: {
  lake: ObjectStore;
  table: ChangeStreamTableConfig;
  exportId: string;
  /** The snapshot's export time, ISO-8601. */
  exportTime: string;
  writer: PartitionedNdjsonWriter;
  errors: ErrorSink;
}): Promise<VanishedKeys | undefined> {
  const { lake, table, exportId, writer, errors } = options;
  if (!lake.url.startsWith('file://')) return undefined;
  const dir = join(fileURLToPath(lake.url), lakeLayout.changes(table.name));
  if (!existsSync(dir)) return { deleted: 0, failed: 0 };
  const time = new Date(options.exportTime).toISOString();
  // The order key of this snapshot's own `r` records: anything the snapshot read is at least this.
  const snapshotOrder = snapshotOrderKey(time);
  const columns = `{'op': 'VARCHAR', 'keys': 'JSON', 'before': 'JSON', 'after': 'JSON', 'seq': 'VARCHAR', 'source': 'JSON'}`;
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await instance.connect();
  let rows: Array<[string, string | null]>;
  try {
    const reader = await connection.runAndReadAll(
      `SELECT keys::VARCHAR, image::VARCHAR FROM (
         SELECT keys, op, coalesce(after, before) AS image, ${changeOrderSql} AS _order
         FROM read_json(${quotePath(join(dir, '**', '*.ndjson.gz'))}, format = 'newline_delimited', columns = ${columns},
                        hive_partitioning = false)
         QUALIFY row_number() OVER (PARTITION BY keys::VARCHAR ORDER BY _order DESC) = 1)
       WHERE op <> 'd' AND _order < ${quoteLiteral(snapshotOrder)}
       ORDER BY 1`,
    );
    rows = reader.getRows() as Array<[string, string | null]>;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  if (rows.length === 0) return { deleted: 0, failed: 0 };
  const spec = table.pipe?.partitionBy ?? DEFAULT_PARTITION_BY;
  const eventTime = new Date(time);
  const result: BatchResult = { ok: [], failed: [] };
  for (const [keysText, imageText] of rows) {
    const record: ChangeRecord = {
      op: 'd',
      table: table.name,
      keys: parse(keysText) as PlainItem,
      before: imageText === null ? null : (parse(imageText) as PlainItem),
      after: null,
      eventId: `${exportId}-gone-${createHash('sha256').update(keysText).digest('hex').slice(0, 24)}`,
      seq: null,
      ts: time,
      source: { kind: 'snapshot', exportId, time },
    };
    try {
      result.ok.push(processedChange(record, spec, eventTime));
    } catch (error) {
      if (!(error instanceof ChangeRecordError)) throw error;
      result.failed.push(failedChange(error, record, record.eventId));
    }
  }
  const landed = await landProcessedChanges({ result, table, writer, errors });
  await writer.flush();
  await errors.flush();
  return { deleted: landed.landed + landed.failed, failed: landed.failed };
}
