import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { changeRecordsForExportLines } from '../change-stream/export-record.js';
import { landProcessedChanges } from '../lake/land-change-batch.js';
import type { ExportLanding, LandedExport } from './types.js';

/** Lines converted and handed to the writer at a time: bounds memory whatever the file's size. */
const LINES_PER_BATCH = 1000;

/**
 * Streams one gzip data file of a DynamoDB export (`DYNAMODB_JSON`) into the table's lake partitions, through the same
 * conversion and writer as stream records: FULL exports as `r` records, INCREMENTAL ones as `c`/`u`/`d`. Bad lines go to
 * the error sink. Call `writer.flush()` and `errors.flush()` afterwards. Lake file names derive from the records'
 * deterministic event ids, so landing the same file again overwrites the same keys.
 *
 * @example
 * const landed = await landExportDataFile({ exportStore, table, context, writer, errors }, file.dataFileS3Key);
 */
export async function landExportDataFile(landing: ExportLanding, dataFileKey: string): Promise<LandedExport> {
  const { exportStore, table, context, writer, errors } = landing;
  const landed: LandedExport = { dataFiles: 1, records: 0, failed: 0, files: [] };
  const land = async (lines: string[]) => {
    const result = changeRecordsForExportLines(lines, table, context);
    const batch = await landProcessedChanges({ result, table, writer, errors });
    landed.records += batch.landed;
    landed.failed += batch.failed;
    landed.files.push(...batch.files);
  };
  const body = await exportStore.getStream(dataFileKey);
  const gunzip = createGunzip();
  const lines = createInterface({ input: body.pipe(gunzip), crlfDelay: Infinity });
  body.on('error', (error) => gunzip.destroy(error));
  let batch: string[] = [];
  for await (const line of lines) {
    if (line.trim() === '') continue;
    batch.push(line);
    if (batch.length >= LINES_PER_BATCH) {
      await land(batch);
      batch = [];
    }
  }
  if (batch.length > 0) await land(batch);
  return landed;
}
