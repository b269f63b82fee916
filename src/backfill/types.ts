import type { ExportContext } from '../change-stream/export-record.js';
import type { ChangeStreamTableConfig } from '../change-stream/process-batch.js';
import type { ErrorSink } from '../lake/error-sink.js';
import type { PartitionedNdjsonWriter } from '../lake/partitioned-ndjson-writer.js';
import type { WrittenFile } from '../lake/types.js';
import type { ObjectStore } from '../ports/object-store.js';

/** The fields of an export's `manifest-summary.json` that landing needs. */
export interface ExportManifestSummary {
  exportArn: string;
  exportType: 'FULL_EXPORT' | 'INCREMENTAL_EXPORT';
  /** FULL: the time the export reads the table as of. */
  exportTime?: string | undefined;
  /** INCREMENTAL: the window. */
  exportFromTime?: string | undefined;
  exportToTime?: string | undefined;
  manifestFilesS3Key: string;
  itemCount: number;
}

/** One line of `manifest-files.json`: a data file of the export. */
export interface ExportDataFile {
  dataFileS3Key: string;
  itemCount: number;
}

/** Where the lines of one export go: the table's lake partitions, its error location. */
export interface ExportLanding {
  /** The bucket (or directory) the export was written to; keys are the manifest's keys. */
  exportStore: ObjectStore;
  table: ChangeStreamTableConfig;
  context: ExportContext;
  writer: PartitionedNdjsonWriter;
  errors: ErrorSink;
}

/** Counts of landing export lines; ids and counts only, safe to log. */
export interface LandedExport {
  /** Data files read. */
  dataFiles: number;
  /** Lines that became change records (buffered or written). */
  records: number;
  /** Lines sent to the error location. */
  failed: number;
  /** Lake files written so far. */
  files: WrittenFile[];
}
