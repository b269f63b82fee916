import { randomUUID } from 'node:crypto';
import type { ExportRequest } from './export-request.js';
import { exportFolder } from './export-writer.js';
import type { ExportFile, ExportJob, ExportStatusShape } from './types.js';

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
 * The S3 folder of a job's files, `s3://<bucket>/<prefix>/<datastoreId>-FHIR_EXPORT-<jobId>/` (what HealthLake has
 * been seen to report as `s3Uri` once a job runs).
 *
 * @example
 * jobFolderS3Uri(job, 'ds1') // 's3://tributary-export/exports/ds1-FHIR_EXPORT-0f3c…/'
 */
export function jobFolderS3Uri(job: ExportJob, datastoreId: string): string {
  return `s3://${job.bucket}/${exportFolder(job.prefix, datastoreId, job.jobId)}/`;
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
 * With `shape: 'job-properties'` only HealthLake's documented job properties are returned (no `transactionTime`,
 * no file lists; `outputDataConfig.s3Configuration.s3Uri` names the job's folder), as HealthLake may answer.
 *
 * @example
 * const manifest = exportManifest(job, datastoreId, fhirBaseUrl);
 */
export function exportManifest(
  job: ExportJob,
  datastoreId: string,
  baseUrl: string,
  shape: ExportStatusShape = 'bulk-data',
): Record<string, unknown> {
  if (shape === 'job-properties') {
    const { outputDataConfig: _given, ...properties } = exportJobProperties(job, datastoreId);
    const kms = job.kmsKeyId ? { kmsKeyId: job.kmsKeyId } : {};
    return {
      exportJobProperties: {
        ...properties,
        outputDataConfig: { s3Configuration: { s3Uri: jobFolderS3Uri(job, datastoreId), ...kms } },
      },
    };
  }
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
