import { describe, expect, it } from 'vitest';
import { InvalidRequestError, NotSupportedError } from '../../../src/local/fhir-store/errors.js';
import { parseExportRequest, parseS3Uri } from '../../../src/local/fhir-store/export-request.js';

describe('parseExportRequest', () => {
  it('reads _since, _type and _outputFormat from the query', () => {
    const request = parseExportRequest(
      new URLSearchParams('_since=2024-01-01T00:00:00Z&_type=Patient,Observation&_outputFormat=ndjson'),
      undefined,
    );
    expect(request).toEqual({
      since: '2024-01-01T00:00:00.000Z',
      types: ['Patient', 'Observation'],
      outputFormat: 'ndjson',
    });
  });

  it('reads a Parameters body', () => {
    const request = parseExportRequest(new URLSearchParams(), {
      resourceType: 'Parameters',
      parameter: [
        { name: '_type', valueString: 'Encounter' },
        { name: '_since', valueInstant: '2024-02-01T00:00:00.500Z' },
      ],
    });
    expect(request.types).toEqual(['Encounter']);
    expect(request.since).toBe('2024-02-01T00:00:00.500Z');
  });

  it('reads HealthLake output configuration', () => {
    const request = parseExportRequest(new URLSearchParams(), {
      JobName: 'j',
      OutputDataConfig: { S3Configuration: { S3Uri: 's3://bucket/a/b/', KmsKeyId: 'k' } },
      DataAccessRoleArn: 'arn:aws:iam::1:role/r',
    });
    expect(request.output).toEqual({ bucket: 'bucket', prefix: 'a/b', s3Uri: 's3://bucket/a/b/', kmsKeyId: 'k' });
    expect(request.jobName).toBe('j');
  });

  it('rejects _typeFilter, unknown parameters, bad types, formats and dates', () => {
    expect(() => parseExportRequest(new URLSearchParams('_typeFilter=Patient?active=true'), undefined)).toThrow(
      NotSupportedError,
    );
    expect(() => parseExportRequest(new URLSearchParams('_elements=id'), undefined)).toThrow(NotSupportedError);
    expect(() => parseExportRequest(new URLSearchParams('_type=Bot'), undefined)).toThrow(InvalidRequestError);
    expect(() => parseExportRequest(new URLSearchParams('_outputFormat=csv'), undefined)).toThrow(InvalidRequestError);
    expect(() => parseExportRequest(new URLSearchParams('_since=2024-01-01'), undefined)).toThrow(InvalidRequestError);
    expect(() => parseExportRequest(new URLSearchParams(), { Surprise: 1 })).toThrow(InvalidRequestError);
  });
});

describe('parseS3Uri', () => {
  it('splits bucket and prefix and refuses escapes', () => {
    expect(parseS3Uri('s3://my-bucket')).toEqual({ bucket: 'my-bucket', prefix: '' });
    expect(() => parseS3Uri('s3://my-bucket/../etc')).toThrow(InvalidRequestError);
    expect(() => parseS3Uri('https://my-bucket/x')).toThrow(InvalidRequestError);
  });
});
