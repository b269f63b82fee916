import type { ExportContext } from '../change-stream/export-record.js';
import { exportIdOf } from '../change-stream/export-record.js';
import { readExportDataFiles, readExportSummary } from './export-manifest.js';
import { ExportManifestError } from './errors.js';
import { landExportDataFile } from './land-export-file.js';
import type { ExportLanding, ExportManifestSummary, LandedExport } from './types.js';

/**
 * What landing needs from an export's summary and the table's key schema.
 *
 * @example
 * exportContextOf(summary, ['id']) // { exportId: '0170-ab', exportType: 'FULL_EXPORT', exportTime: '…', keyAttributes: ['id'] }
 */
export function exportContextOf(summary: ExportManifestSummary, keyAttributes: readonly string[]): ExportContext {
  const exportTime = summary.exportType === 'FULL_EXPORT' ? summary.exportTime : summary.exportToTime;
  if (exportTime === undefined)
    throw new ExportManifestError(`manifest summary of ${summary.exportArn} has no export time`);
  return { exportId: exportIdOf(summary.exportArn), exportType: summary.exportType, exportTime, keyAttributes };
}

/**
 * Lands a whole DynamoDB export in the table's lake partitions: reads `manifest-summary.json` and
 * `manifest-files.json`, then streams each data file through {@link landExportDataFile}, and flushes the writer and
 * the error sink. Idempotent: landing it again writes the same keys.
 *
 * @example
 * const landed = await landExport({ exportStore, summaryKey: description.ExportManifest!, keyAttributes: ['id'], table, writer, errors });
 */
export async function landExport(options: {
  exportStore: ExportLanding['exportStore'];
  summaryKey: string;
  keyAttributes: readonly string[];
  table: ExportLanding['table'];
  writer: ExportLanding['writer'];
  errors: ExportLanding['errors'];
  /** Called after each data file, with the running counts (ids and counts only). */
  onProgress?: (progress: { dataFiles: number; totalDataFiles: number; records: number; failed: number }) => void;
}): Promise<LandedExport & { summary: ExportManifestSummary }> {
  const summary = await readExportSummary(options.exportStore, options.summaryKey);
  const context = exportContextOf(summary, options.keyAttributes);
  const dataFiles = await readExportDataFiles(options.exportStore, summary.manifestFilesS3Key);
  const landing: ExportLanding = { ...options, context };
  const total: LandedExport = { dataFiles: 0, records: 0, failed: 0, files: [] };
  for (const file of dataFiles) {
    const landed = await landExportDataFile(landing, file.dataFileS3Key);
    total.dataFiles += 1;
    total.records += landed.records;
    total.failed += landed.failed;
    total.files.push(...landed.files);
    options.onProgress?.({
      dataFiles: total.dataFiles,
      totalDataFiles: dataFiles.length,
      records: total.records,
      failed: total.failed,
    });
  }
  total.files.push(...(await options.writer.flush()));
  await options.errors.flush();
  return { ...total, summary };
}
