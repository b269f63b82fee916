import { fhirDateRange } from './date-range.js';
import { InvalidRequestError, NotSupportedError } from './errors.js';
import { isR4ResourceType } from './r4-definitions.js';

/** Accepted `_outputFormat` values (all mean NDJSON). */
export const EXPORT_OUTPUT_FORMATS = ['application/fhir+ndjson', 'application/ndjson', 'ndjson'];

/** Where an export writes: a bucket of the local S3 and a key prefix. */
export interface S3Location {
  bucket: string;
  prefix: string;
}

/** A validated kick-off request. */
export interface ExportRequest {
  since?: string;
  types: string[];
  outputFormat: string;
  jobName?: string;
  output?: S3Location & { s3Uri: string; kmsKeyId?: string };
  dataAccessRoleArn?: string;
}

/**
 * Parses `s3://bucket/prefix` (prefix optional, slashes trimmed).
 *
 * @example
 * parseS3Uri('s3://exports/healthlake/') // { bucket: 'exports', prefix: 'healthlake' }
 */
export function parseS3Uri(uri: string): S3Location {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(uri);
  if (!match?.[1]) throw new InvalidRequestError('S3Uri must look like s3://<bucket>/<prefix>');
  const prefix = (match[2] ?? '').replace(/^\/+|\/+$/g, '');
  if (prefix.split('/').some((segment) => segment === '..' || segment === '.'))
    throw new InvalidRequestError('S3Uri prefix may not contain . or .. segments');
  return { bucket: match[1], prefix };
}

interface ParametersBody {
  resourceType: 'Parameters';
  parameter?: {
    name?: string;
    valueString?: string;
    valueInstant?: string;
    valueDateTime?: string;
    valueCode?: string;
    valueUri?: string;
  }[];
}

interface HealthLakeBody {
  JobName?: string;
  OutputDataConfig?: { S3Configuration?: { S3Uri?: string; KmsKeyId?: string } };
  DataAccessRoleArn?: string;
}

/**
 * Validates a `$export` kick-off: query parameters, plus for POST a FHIR `Parameters`
 * body or HealthLake's JSON body (`JobName`, `OutputDataConfig`, `DataAccessRoleArn`).
 * `_typeFilter` and other unknown parameters are rejected with a clear 400.
 *
 * @example
 * parseExportRequest(new URLSearchParams('_type=Patient&_since=2024-01-01T00:00:00Z'), undefined);
 */
export function parseExportRequest(query: URLSearchParams, body: unknown): ExportRequest {
  const values: [string, string][] = [...query];
  let healthLake: HealthLakeBody = {};
  if (body !== undefined && body !== null) {
    if (typeof body !== 'object' || Array.isArray(body))
      throw new InvalidRequestError('the $export body must be a Parameters resource or a JSON object');
    if ((body as { resourceType?: unknown }).resourceType === 'Parameters') {
      for (const parameter of (body as ParametersBody).parameter ?? []) {
        const value =
          parameter.valueString ??
          parameter.valueInstant ??
          parameter.valueDateTime ??
          parameter.valueCode ??
          parameter.valueUri;
        if (typeof parameter.name !== 'string' || typeof value !== 'string')
          throw new InvalidRequestError(
            'each Parameters.parameter needs a name and a string, code, uri or instant value',
          );
        values.push([parameter.name, value]);
      }
    } else {
      healthLake = body as HealthLakeBody;
      const unknown = Object.keys(healthLake).filter(
        (key) => !['JobName', 'OutputDataConfig', 'DataAccessRoleArn', 'ClientToken', 'DatastoreId'].includes(key),
      );
      if (unknown.length > 0)
        throw new InvalidRequestError(`unknown $export body fields: ${unknown.join(', ').slice(0, 128)}`);
    }
  }
  const request: ExportRequest = { types: [], outputFormat: EXPORT_OUTPUT_FORMATS[0] as string };
  for (const [name, value] of values) {
    switch (name) {
      case '_since': {
        const range = fhirDateRange(value);
        if (!range || !value.includes('T'))
          throw new InvalidRequestError('_since must be a FHIR instant, e.g. 2024-01-01T00:00:00Z');
        request.since = range.start;
        break;
      }
      case '_type':
        for (const type of value.split(',').map((item) => item.trim())) {
          if (!isR4ResourceType(type))
            throw new InvalidRequestError(
              `_type names ${JSON.stringify(type.slice(0, 64))}, which is not an R4 resource type`,
            );
          if (!request.types.includes(type)) request.types.push(type);
        }
        break;
      case '_outputFormat': {
        // An unencoded `+` in a query string arrives as a space (`application/fhir ndjson`): read it as the `+` it was.
        const format = value.replaceAll(' ', '+');
        if (!EXPORT_OUTPUT_FORMATS.includes(format))
          throw new InvalidRequestError(`_outputFormat must be one of ${EXPORT_OUTPUT_FORMATS.join(', ')}`);
        request.outputFormat = format;
        break;
      }
      case '_typeFilter':
        throw new NotSupportedError(
          '_typeFilter is not supported by this server; export whole types with _type and filter downstream',
        );
      default:
        throw new NotSupportedError(
          `$export parameter ${name.slice(0, 64)} is not supported (supported: _since, _type, _outputFormat)`,
        );
    }
  }
  if (healthLake.JobName !== undefined) {
    if (typeof healthLake.JobName !== 'string' || healthLake.JobName.length > 64)
      throw new InvalidRequestError('JobName must be a string of at most 64 characters');
    request.jobName = healthLake.JobName;
  }
  const s3 = healthLake.OutputDataConfig?.S3Configuration;
  if (s3?.S3Uri !== undefined) {
    request.output = { ...parseS3Uri(s3.S3Uri), s3Uri: s3.S3Uri, ...(s3.KmsKeyId ? { kmsKeyId: s3.KmsKeyId } : {}) };
  }
  if (healthLake.DataAccessRoleArn !== undefined) request.dataAccessRoleArn = healthLake.DataAccessRoleArn;
  return request;
}
