import { ExportProtocolError } from './errors.js';
import { isExportJobStatus, type ExportJobStatus } from './types.js';

/** What Tributary needs from HealthLake's job properties, whichever API and casing they came in. */
export interface HealthLakeJobProperties {
  jobId?: string;
  status?: ExportJobStatus;
  /** ISO-8601 (UTC). */
  submitTime?: string;
  datastoreId?: string;
  /** `OutputDataConfig.S3Configuration.S3Uri` as the job reports it (with or without the job's own folder). */
  outputS3Uri?: string;
  message?: string;
}

/**
 * Reads HealthLake export job properties from any of the shapes seen: the FHIR REST status answer's
 * `exportJobProperties` (camelCase; `outputDataConfig.s3Configuration.s3Uri` or `.S3Configuration.S3Uri`; times as
 * ISO strings or `"Aug 26, 2023 1:46:56 PM"`), and the control plane's `ExportJobProperties` (PascalCase; times as
 * `Date` from the SDK or epoch seconds on the wire; `OutputDataConfig.S3Uri` in older CLI output).
 *
 * @example
 * readJobProperties({ jobId: 'j1', jobStatus: 'COMPLETED', submitTime: '2024-05-01T10:00:00.000Z' }).submitTime
 * // '2024-05-01T10:00:00.000Z'
 */
export function readJobProperties(value: unknown): HealthLakeJobProperties {
  if (!value || typeof value !== 'object') return {};
  const props = value as Record<string, unknown>;
  const pick = (...names: string[]): unknown => names.map((name) => props[name]).find((v) => v !== undefined);
  const status = pick('jobStatus', 'JobStatus');
  const submitTime = readTime(pick('submitTime', 'SubmitTime'));
  const jobId = pick('jobId', 'JobId');
  const datastoreId = pick('datastoreId', 'DatastoreId');
  const message = pick('message', 'Message');
  const outputS3Uri = outputUriOf(pick('outputDataConfig', 'OutputDataConfig'));
  return {
    ...(typeof jobId === 'string' ? { jobId } : {}),
    ...(isExportJobStatus(status) ? { status } : {}),
    ...(submitTime ? { submitTime } : {}),
    ...(typeof datastoreId === 'string' ? { datastoreId } : {}),
    ...(outputS3Uri ? { outputS3Uri } : {}),
    ...(typeof message === 'string' ? { message } : {}),
  };
}

/**
 * Maps a HealthLake status name onto {@link ExportJobStatus}; an unknown name is a protocol error (never guessed).
 *
 * @example
 * jobStatusOf('COMPLETED') // 'COMPLETED'
 */
export function jobStatusOf(value: unknown): ExportJobStatus {
  if (isExportJobStatus(value)) return value;
  throw new ExportProtocolError(`unknown export job status ${JSON.stringify(String(value)).slice(0, 40)}`);
}

/**
 * The S3 folder a HealthLake export job writes to: `<S3Uri>/<datastoreId>-FHIR_EXPORT-<jobId>/`. HealthLake reports
 * `S3Uri` either as given at kick-off or with that folder already appended; both give the same folder.
 *
 * @example
 * exportJobFolder('s3://b/fhir', 'ds1', 'j1') // 's3://b/fhir/ds1-FHIR_EXPORT-j1/'
 */
export function exportJobFolder(s3Uri: string, datastoreId: string, jobId: string): string {
  const folder = `${datastoreId}-FHIR_EXPORT-${jobId}`;
  const base = s3Uri.replace(/\/+$/, '');
  if (base.endsWith(`/${folder}`)) return `${base}/`;
  return `${base}/${folder}/`;
}

function outputUriOf(config: unknown): string | undefined {
  if (!config || typeof config !== 'object') return undefined;
  const record = config as Record<string, unknown>;
  const s3 = (record.S3Configuration ?? record.s3Configuration) as Record<string, unknown> | undefined;
  const uri = s3?.S3Uri ?? s3?.s3Uri ?? record.S3Uri ?? record.s3Uri;
  return typeof uri === 'string' && uri.startsWith('s3://') ? uri : undefined;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
/** `Aug 26, 2023 1:46:56 PM`: what HealthLake's REST status has been seen to send (UTC, whole seconds). */
const JAVA_DATE = /^([A-Za-z]{3}) (\d{1,2}), (\d{4}),? (\d{1,2}):(\d{2}):(\d{2}) ?([AP]M)$/i;

function readTime(value: unknown): string | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.toISOString();
  // AWS JSON 1.0 carries timestamps as epoch seconds (fractional allowed).
  if (typeof value === 'number' && Number.isFinite(value)) return new Date(value * 1000).toISOString();
  if (typeof value !== 'string') return undefined;
  const java = JAVA_DATE.exec(value.trim());
  if (java) {
    const month = MONTHS.indexOf(java[1]!.toLowerCase());
    if (month < 0) return undefined;
    const hour12 = Number(java[4]) % 12;
    const hour = java[7]!.toUpperCase() === 'PM' ? hour12 + 12 : hour12;
    const time = Date.UTC(Number(java[3]), month, Number(java[2]), hour, Number(java[5]), Number(java[6]));
    return new Date(time).toISOString();
  }
  // Only ISO-8601 with an explicit zone: a zoneless string would be read in the process's local time.
  if (!/^\d{4}-\d{2}-\d{2}T[\d:.]+(?:Z|[+-]\d{2}:?\d{2})$/i.test(value.trim())) return undefined;
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? undefined : new Date(parsed).toISOString();
}
