import * as z from '../validation/zod-mini.js';
import type { ObjectStore } from '../ports/object-store.js';
import { ExportManifestError } from './errors.js';
import type { ExportDataFile, ExportManifestSummary } from './types.js';

const summarySchema = z.object({
  exportArn: z.string().check(z.minLength(1)),
  exportType: z._default(z.enum(['FULL_EXPORT', 'INCREMENTAL_EXPORT']), 'FULL_EXPORT'),
  exportTime: z.optional(z.nullable(z.string())),
  exportFromTime: z.optional(z.nullable(z.string())),
  exportToTime: z.optional(z.nullable(z.string())),
  outputFormat: z._default(z.string(), 'DYNAMODB_JSON'),
  manifestFilesS3Key: z.string().check(z.minLength(1)),
  itemCount: z._default(z.number(), 0),
});

const dataFileSchema = z.object({
  dataFileS3Key: z.string().check(z.minLength(1)),
  itemCount: z._default(z.number(), 0),
});

async function text(store: ObjectStore, key: string, what: string): Promise<string> {
  const body = await store.get(key);
  if (body === undefined) throw new ExportManifestError(`${what} ${key} does not exist`);
  return Buffer.from(body).toString('utf8');
}

/**
 * Reads an export's `manifest-summary.json` (the `ExportManifest` key of `DescribeExport`). Only `DYNAMODB_JSON`
 * exports can be landed.
 *
 * @example
 * const summary = await readExportSummary(bucket, 'exports/AWSDynamoDB/0170-ab/manifest-summary.json');
 */
export async function readExportSummary(store: ObjectStore, summaryKey: string): Promise<ExportManifestSummary> {
  let json: unknown;
  try {
    json = JSON.parse(await text(store, summaryKey, 'manifest summary'));
  } catch (error) {
    if (error instanceof ExportManifestError) throw error;
    throw new ExportManifestError(`manifest summary ${summaryKey} is not JSON`);
  }
  const parsed = summarySchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ExportManifestError(`manifest summary ${summaryKey}: ${issue?.path.join('.')}: ${issue?.message}`);
  }
  if (parsed.data.outputFormat !== 'DYNAMODB_JSON')
    throw new ExportManifestError(`export format ${parsed.data.outputFormat} cannot be landed; use DYNAMODB_JSON`);
  const { exportArn, exportType, manifestFilesS3Key, itemCount } = parsed.data;
  return {
    exportArn,
    exportType,
    exportTime: parsed.data.exportTime ?? undefined,
    exportFromTime: parsed.data.exportFromTime ?? undefined,
    exportToTime: parsed.data.exportToTime ?? undefined,
    manifestFilesS3Key,
    itemCount,
  };
}

/**
 * Reads an export's `manifest-files.json`: one JSON object per line, one per data file.
 *
 * @example
 * for (const file of await readExportDataFiles(bucket, summary.manifestFilesS3Key)) console.log(file.dataFileS3Key);
 */
export async function readExportDataFiles(store: ObjectStore, manifestFilesKey: string): Promise<ExportDataFile[]> {
  const files: ExportDataFile[] = [];
  const lines = (await text(store, manifestFilesKey, 'manifest files')).split('\n');
  for (const [index, line] of lines.entries()) {
    if (line.trim() === '') continue;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      throw new ExportManifestError(`manifest files ${manifestFilesKey} line ${index + 1} is not JSON`);
    }
    const parsed = dataFileSchema.safeParse(json);
    if (!parsed.success)
      throw new ExportManifestError(`manifest files ${manifestFilesKey} line ${index + 1}: no dataFileS3Key`);
    files.push(parsed.data);
  }
  return files;
}
