import { createHash } from 'node:crypto';
import {
  DescribeFHIRExportJobCommand,
  StartFHIRExportJobCommand,
  type HealthLakeClient,
} from '@aws-sdk/client-healthlake';
import { ExportErrorNames, ExportStartError, ExportWorkflowError, TransientExportError } from './errors.js';
import { readJobProperties, type HealthLakeJobProperties } from './healthlake-job-properties.js';

/** The HealthLake control plane of one datastore. */
export interface HealthLakeControl {
  client: HealthLakeClient;
  datastoreId: string;
}

/** What {@link startControlPlaneExport} sends. */
export interface ControlPlaneExportRequest {
  runId: string;
  jobName: string;
  outputS3Uri: string;
  kmsKeyId?: string;
  dataAccessRoleArn?: string;
}

/** Control-plane errors worth retrying (AWS JSON `__type`, plus SDK network failures that carry no HTTP status). */
const TRANSIENT_NAMES = new Set(['ThrottlingException', 'InternalServerException', 'ServiceUnavailableException']);

/**
 * Starts a whole-datastore export with `StartFHIRExportJob`. The `ClientToken` is derived from the run id, so a
 * retried start returns the same job. The control plane takes no `_since`/`_type`: every such export is a full one.
 *
 * @example
 * const jobId = await startControlPlaneExport(control, { runId: 'run-1', jobName: 'run-1', outputS3Uri: 's3://b/fhir', dataAccessRoleArn });
 */
export async function startControlPlaneExport(
  control: HealthLakeControl,
  request: ControlPlaneExportRequest,
): Promise<string> {
  if (!request.dataAccessRoleArn)
    throw new ExportStartError('StartFHIRExportJob needs a data access role (dataAccessRoleArn)');
  try {
    const answer = await control.client.send(
      new StartFHIRExportJobCommand({
        DatastoreId: control.datastoreId,
        JobName: request.jobName,
        ClientToken: clientTokenOf(request.runId),
        DataAccessRoleArn: request.dataAccessRoleArn,
        OutputDataConfig: { S3Configuration: { S3Uri: request.outputS3Uri, KmsKeyId: request.kmsKeyId } },
      }),
    );
    if (!answer.JobId) throw new ExportStartError('StartFHIRExportJob answered without a JobId');
    return answer.JobId;
  } catch (error) {
    throw classify(error, 'StartFHIRExportJob', (message) => new ExportStartError(message, { cause: error }));
  }
}

/**
 * Describes a job with `DescribeFHIRExportJob` (its properties only: no transactionTime, no output list).
 *
 * @example
 * const { status, submitTime, outputS3Uri } = await describeControlPlaneExport(control, jobId);
 */
export async function describeControlPlaneExport(
  control: HealthLakeControl,
  jobId: string,
): Promise<HealthLakeJobProperties> {
  try {
    const answer = await control.client.send(
      new DescribeFHIRExportJobCommand({ DatastoreId: control.datastoreId, JobId: jobId }),
    );
    return readJobProperties(answer.ExportJobProperties);
  } catch (error) {
    throw classify(
      error,
      'DescribeFHIRExportJob',
      (message) => new ExportWorkflowError(ExportErrorNames.StatusUnavailable, message, { cause: error }),
    );
  }
}

/**
 * The `ClientToken` of a run: `[A-Za-z0-9-]{1,64}` as HealthLake requires, the same for the same run id.
 *
 * @example
 * clientTokenOf('run-1') // 'run-1'
 */
export function clientTokenOf(runId: string): string {
  if (/^[A-Za-z0-9-]{1,64}$/.test(runId)) return runId;
  return createHash('sha256').update(runId).digest('hex');
}

function classify(error: unknown, operation: string, permanent: (message: string) => Error): Error {
  if (error instanceof ExportWorkflowError) return error;
  const name = (error as Error).name ?? 'Error';
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  // Error names and HTTP statuses only: AWS messages may echo request values.
  const message = `${operation} failed: ${name}${status ? ` (HTTP ${status})` : ''}`;
  if (TRANSIENT_NAMES.has(name) || status === undefined || status === 429 || status >= 500) {
    return new TransientExportError(message, { cause: error });
  }
  return permanent(message);
}
