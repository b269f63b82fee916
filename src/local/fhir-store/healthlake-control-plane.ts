import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../ports/clock.js';
import { FhirError } from './errors.js';
import { jobFolderS3Uri, jobS3Uri, newExportJob, type ExportDefaults } from './export-jobs.js';
import type { ExportJobStore } from './export-job-store.js';
import { parseS3Uri } from './export-request.js';
import type { ExportRunner } from './export-runner.js';
import { readBody, sendJson } from './http-io.js';
import type { ExportFaults, ExportJob, ExportJobStatus } from './types.js';

const AMZ_JSON = 'application/x-amz-json-1.0';
const JOB_STATUSES: readonly ExportJobStatus[] = [
  'SUBMITTED',
  'QUEUED',
  'IN_PROGRESS',
  'COMPLETED_WITH_ERRORS',
  'COMPLETED',
  'FAILED',
  'CANCEL_SUBMITTED',
  'CANCEL_IN_PROGRESS',
  'CANCEL_COMPLETED',
  'CANCEL_FAILED',
];

/** An error in the AWS JSON 1.0 shape (`__type`, `message`). *
 * @example
 * throw new AwsJsonError('ValidationException', 'DatastoreId is required');
 */
export class AwsJsonError extends Error {
  public override readonly name = 'AwsJsonError';
  public constructor(
    public readonly type: string,
    message: string,
    public readonly status = 400,
  ) {
    super(message);
  }
}

/** What the control plane needs. */
export interface HealthLakeControlPlaneOptions {
  jobs: ExportJobStore;
  runner: ExportRunner;
  datastoreId: string;
  datastoreName: string;
  createdAt: Date;
  region: string;
  accountId: string;
  fhirBaseUrl: () => string;
  exportDefaults: ExportDefaults;
  /** Live failure-injection hooks; `statusShape: 'job-properties'` reports `S3Uri` with the job's folder. */
  faults: ExportFaults;
  clock: Clock;
}

type Input = Record<string, unknown>;

/**
 * The HealthLake control plane over the AWS JSON 1.0 protocol (`X-Amz-Target: HealthLake.<Op>`),
 * enough for an unmodified `@aws-sdk/client-healthlake`: DescribeFHIRDatastore, ListFHIRDatastores,
 * StartFHIRExportJob (whole datastore, idempotent on ClientToken), DescribeFHIRExportJob, ListFHIRExportJobs.
 *
 * @example
 * if (req.headers['x-amz-target']) await controlPlane.handle(req, res);
 */
export class HealthLakeControlPlane {
  public constructor(private readonly options: HealthLakeControlPlaneOptions) {}

  public async handle(request: IncomingMessage, response: ServerResponse, maxBodyBytes: number): Promise<void> {
    const target = String(request.headers['x-amz-target'] ?? '');
    try {
      let input: Input;
      try {
        const text = (await readBody(request, maxBodyBytes)).toString('utf8');
        input = text ? (JSON.parse(text) as Input) : {};
      } catch (error) {
        if (error instanceof FhirError) throw new AwsJsonError('ValidationException', error.message);
        throw new AwsJsonError('SerializationException', 'the request body is not valid JSON');
      }
      const operation = target.startsWith('HealthLake.') ? target.slice('HealthLake.'.length) : '';
      sendJson(response, 200, this.dispatch(operation, input), {}, AMZ_JSON);
    } catch (error) {
      const failure =
        error instanceof AwsJsonError ? error : new AwsJsonError('InternalServerException', 'internal error', 500);
      sendJson(
        response,
        failure.status,
        { __type: failure.type, message: failure.message },
        { 'x-amzn-ErrorType': failure.type },
        AMZ_JSON,
      );
    }
  }

  private dispatch(operation: string, input: Input): unknown {
    switch (operation) {
      case 'DescribeFHIRDatastore':
        this.requireDatastore(input.DatastoreId);
        return { DatastoreProperties: this.datastoreProperties() };
      case 'ListFHIRDatastores':
        return this.listDatastores(input);
      case 'StartFHIRExportJob':
        return this.startExport(input);
      case 'DescribeFHIRExportJob': {
        this.requireDatastore(input.DatastoreId);
        const job = typeof input.JobId === 'string' ? this.options.jobs.get(input.JobId) : undefined;
        if (!job)
          throw new AwsJsonError(
            'ResourceNotFoundException',
            `export job ${String(input.JobId).slice(0, 64)} does not exist`,
          );
        return { ExportJobProperties: this.jobProperties(job) };
      }
      case 'ListFHIRExportJobs':
        return this.listExports(input);
      default:
        throw new AwsJsonError(
          'UnknownOperationException',
          `operation ${operation.slice(0, 64) || '(none)'} is not supported`,
        );
    }
  }

  private requireDatastore(id: unknown): void {
    if (typeof id !== 'string' || id.length === 0)
      throw new AwsJsonError('ValidationException', 'DatastoreId is required');
    if (id !== this.options.datastoreId)
      throw new AwsJsonError('ResourceNotFoundException', `datastore ${id.slice(0, 64)} does not exist`);
  }

  private datastoreProperties(): Record<string, unknown> {
    const { datastoreId, region, accountId } = this.options;
    return {
      DatastoreId: datastoreId,
      DatastoreArn: `arn:aws:healthlake:${region}:${accountId}:datastore/fhir/${datastoreId}`,
      DatastoreName: this.options.datastoreName,
      DatastoreStatus: 'ACTIVE',
      CreatedAt: epochSeconds(this.options.createdAt.toISOString()),
      DatastoreTypeVersion: 'R4',
      DatastoreEndpoint: `${this.options.fhirBaseUrl()}/`,
      SseConfiguration: { KmsEncryptionConfig: { CmkType: 'AWS_OWNED_KMS_KEY' } },
      IdentityProviderConfiguration: { AuthorizationStrategy: 'AWS_AUTH', FineGrainedAuthorizationEnabled: false },
    };
  }

  private listDatastores(input: Input): unknown {
    const filter = (input.Filter ?? {}) as {
      DatastoreName?: string;
      DatastoreStatus?: string;
      CreatedBefore?: number;
      CreatedAfter?: number;
    };
    const created = this.options.createdAt.getTime() / 1000;
    const matches =
      (filter.DatastoreName === undefined || filter.DatastoreName === this.options.datastoreName) &&
      (filter.DatastoreStatus === undefined || filter.DatastoreStatus === 'ACTIVE') &&
      (filter.CreatedBefore === undefined || created < filter.CreatedBefore) &&
      (filter.CreatedAfter === undefined || created > filter.CreatedAfter);
    return { DatastorePropertiesList: matches ? [this.datastoreProperties()] : [] };
  }

  private startExport(input: Input): unknown {
    this.requireDatastore(input.DatastoreId);
    const s3 = (input.OutputDataConfig as { S3Configuration?: { S3Uri?: unknown; KmsKeyId?: unknown } } | undefined)
      ?.S3Configuration;
    if (typeof s3?.S3Uri !== 'string')
      throw new AwsJsonError('ValidationException', 'OutputDataConfig.S3Configuration.S3Uri is required');
    if (typeof input.DataAccessRoleArn !== 'string' || !input.DataAccessRoleArn.startsWith('arn:')) {
      throw new AwsJsonError('ValidationException', 'DataAccessRoleArn must be an IAM role ARN');
    }
    if (input.JobName !== undefined && (typeof input.JobName !== 'string' || input.JobName.length > 64)) {
      throw new AwsJsonError('ValidationException', 'JobName must be a string of at most 64 characters');
    }
    let location;
    try {
      location = parseS3Uri(s3.S3Uri);
    } catch (error) {
      throw new AwsJsonError('ValidationException', (error as Error).message);
    }
    const clientToken =
      typeof input.ClientToken === 'string' && input.ClientToken.length > 0 ? input.ClientToken : undefined;
    const job = this.options.runner.submit(
      newExportJob({
        request: {
          types: [],
          outputFormat: 'application/fhir+ndjson',
          ...(typeof input.JobName === 'string' ? { jobName: input.JobName } : {}),
          output: {
            ...location,
            s3Uri: s3.S3Uri,
            ...(typeof s3.KmsKeyId === 'string' ? { kmsKeyId: s3.KmsKeyId } : {}),
          },
          dataAccessRoleArn: input.DataAccessRoleArn,
        },
        level: 'system',
        requestUrl: `${this.options.fhirBaseUrl()}/$export`,
        defaults: this.options.exportDefaults,
        now: this.options.clock.now(),
        ...(clientToken ? { clientToken } : {}),
      }),
    );
    return { JobId: job.jobId, JobStatus: job.status, DatastoreId: this.options.datastoreId };
  }

  private listExports(input: Input): unknown {
    this.requireDatastore(input.DatastoreId);
    if (input.JobStatus !== undefined && !JOB_STATUSES.includes(input.JobStatus as ExportJobStatus)) {
      throw new AwsJsonError('ValidationException', 'JobStatus is not a valid job status');
    }
    const maxResults = typeof input.MaxResults === 'number' ? Math.max(1, Math.min(500, input.MaxResults)) : 500;
    const offset =
      typeof input.NextToken === 'string'
        ? Number.parseInt(Buffer.from(input.NextToken, 'base64url').toString('utf8'), 10)
        : 0;
    if (!Number.isInteger(offset) || offset < 0) throw new AwsJsonError('ValidationException', 'NextToken is invalid');
    const jobs = this.options.jobs.list().filter((job) => {
      const submitted = Date.parse(job.submitTime) / 1000;
      return (
        (input.JobName === undefined || job.jobName === input.JobName) &&
        (input.JobStatus === undefined || job.status === input.JobStatus) &&
        (typeof input.SubmittedBefore !== 'number' || submitted < input.SubmittedBefore) &&
        (typeof input.SubmittedAfter !== 'number' || submitted > input.SubmittedAfter)
      );
    });
    const page = jobs.slice(offset, offset + maxResults);
    const next =
      offset + maxResults < jobs.length ? Buffer.from(String(offset + maxResults)).toString('base64url') : undefined;
    return {
      ExportJobPropertiesList: page.map((job) => this.jobProperties(job)),
      ...(next ? { NextToken: next } : {}),
    };
  }

  private jobProperties(job: ExportJob): Record<string, unknown> {
    return {
      JobId: job.jobId,
      ...(job.jobName ? { JobName: job.jobName } : {}),
      JobStatus: job.status,
      SubmitTime: epochSeconds(job.submitTime),
      ...(job.endTime ? { EndTime: epochSeconds(job.endTime) } : {}),
      DatastoreId: this.options.datastoreId,
      OutputDataConfig: {
        S3Configuration: {
          S3Uri:
            this.options.faults.statusShape === 'job-properties'
              ? jobFolderS3Uri(job, this.options.datastoreId)
              : jobS3Uri(job),
          ...(job.kmsKeyId ? { KmsKeyId: job.kmsKeyId } : {}),
        },
      },
      ...(job.dataAccessRoleArn ? { DataAccessRoleArn: job.dataAccessRoleArn } : {}),
      ...(job.message ? { Message: job.message } : {}),
    };
  }
}

/** AWS JSON protocols carry timestamps as epoch seconds (fractional allowed). */
function epochSeconds(iso: string): number {
  return Date.parse(iso) / 1000;
}
