import { randomUUID } from 'node:crypto';
import type { ExportRequest } from './export-request.js';
import { exportFolder } from './export-writer.js';
import type { ExportFile, ExportJob } from './types.js';

/** Defaults applied when a kick-off names no output. */
export interface ExportDefaults {
  bucket: string;
  dataAccessRoleArn: string;
}

/**
 * Builds a new SUBMITTED job from a validated request.
 *
 * @example
 * const job = newExportJob({ request, level: 'system', requestUrl, defaults, now: new Date() });
 */
export function newExportJob(input: {
  request: ExportRequest;
  level: ExportJob['level'];
  requestUrl: string;
  defaults: ExportDefaults;
  now: Date;
  clientToken?: string;
}): ExportJob {
  const { request, defaults } = input;
  return {
    jobId: randomUUID().replace(/-/g, ''),
    ...(request.jobName ? { jobName: request.jobName } : {}),
    status: 'SUBMITTED',
    level: input.level,
    submitTime: input.now.toISOString(),
    ...(request.since ? { since: request.since } : {}),
    types: request.types,
    outputFormat: request.outputFormat,
    request: input.requestUrl,
    bucket: request.output?.bucket ?? defaults.bucket,
    prefix: request.output?.prefix ?? '',
    ...(request.output?.kmsKeyId ? { kmsKeyId: request.output.kmsKeyId } : {}),
    dataAccessRoleArn: request.dataAccessRoleArn ?? defaults.dataAccessRoleArn,
    ...(input.clientToken ? { clientToken: input.clientToken } : {}),
    output: [],
    deleted: [],
    error: [],
  };
}

/** The S3 URI a job writes under (what HealthLake reports as `S3Uri`). *
 * @example
 * jobS3Uri(job) // 's3://tributary-export/exports'
 */
export function jobS3Uri(job: ExportJob): string {
  return `s3://${job.bucket}${job.prefix ? `/${job.prefix}` : ''}`;
}

/**
 * HealthLake's `exportJobProperties` as the FHIR REST status endpoint returns it (camelCase, ISO times).
 *
 * @example
 * exportJobProperties(job, datastoreId).jobStatus // 'IN_PROGRESS'
 */
export function exportJobProperties(job: ExportJob, datastoreId: string): Record<string, unknown> {
  return {
    jobId: job.jobId,
    ...(job.jobName ? { jobName: job.jobName } : {}),
    jobStatus: job.status,
    submitTime: job.submitTime,
    ...(job.endTime ? { endTime: job.endTime } : {}),
    datastoreId,
    outputDataConfig: {
      S3Configuration: { S3Uri: jobS3Uri(job), ...(job.kmsKeyId ? { KmsKeyId: job.kmsKeyId } : {}) },
    },
    ...(job.dataAccessRoleArn ? { dataAccessRoleArn: job.dataAccessRoleArn } : {}),
    ...(job.message ? { message: job.message } : {}),
  };
}

/**
 * The Bulk Data v2 completion manifest plus HealthLake's `exportJobProperties`. The
 * `tributary` extension names the bucket and key folder so a workflow can read files by key.
 *
 * @example
 * const manifest = exportManifest(job, datastoreId, fhirBaseUrl);
 */
export function exportManifest(job: ExportJob, datastoreId: string, baseUrl: string): Record<string, unknown> {
  const folder = exportFolder(job.prefix, datastoreId, job.jobId);
  // URLs are rebuilt on every read so they stay right when the server restarts on another port.
  const withUrl = (files: ExportFile[]): ExportFile[] =>
    files.map((file) => ({
      ...file,
      url: `${baseUrl}/export/${job.jobId}/files/${file.extension.tributary.key.slice(folder.length + 1)}`,
    }));
  return {
    transactionTime: job.transactionTime,
    request: job.request,
    requiresAccessToken: false,
    output: withUrl(job.output),
    deleted: withUrl(job.deleted),
    error: withUrl(job.error),
    extension: { tributary: { bucket: job.bucket, folder, s3Uri: jobS3Uri(job) } },
    exportJobProperties: exportJobProperties(job, datastoreId),
  };
}
