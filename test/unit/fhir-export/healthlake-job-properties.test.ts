import { describe, expect, it } from 'vitest';
import { ExportProtocolError } from '../../../src/fhir-export/errors.js';
import { exportJobFolder, jobStatusOf, readJobProperties } from '../../../src/fhir-export/healthlake-job-properties.js';

describe('readJobProperties', () => {
  it('reads the FHIR REST exportJobProperties HealthLake has been seen to send (s3Configuration, Java-style UTC time)', () => {
    expect(
      readJobProperties({
        jobId: 'j1',
        jobStatus: 'COMPLETED',
        submitTime: 'Aug 26, 2023 1:46:56 PM',
        endTime: 'Aug 26, 2023 1:48:25 PM',
        datastoreId: 'ds1',
        outputDataConfig: { s3Configuration: { s3Uri: 's3://b/p/ds1-FHIR_EXPORT-j1/', kmsKeyId: 'k' } },
      }),
    ).toEqual({
      jobId: 'j1',
      status: 'COMPLETED',
      submitTime: '2023-08-26T13:46:56.000Z',
      datastoreId: 'ds1',
      outputS3Uri: 's3://b/p/ds1-FHIR_EXPORT-j1/',
    });
    expect(readJobProperties({ submitTime: 'Jan 2, 2024 12:05:09 AM' }).submitTime).toBe('2024-01-02T00:05:09.000Z');
  });

  it('reads ISO times, the SDK shape (Date, S3Configuration.S3Uri) and epoch seconds from the wire', () => {
    expect(
      readJobProperties({
        JobId: 'j2',
        JobStatus: 'COMPLETED_WITH_ERRORS',
        SubmitTime: new Date('2024-05-01T10:00:00.123Z'),
        OutputDataConfig: { S3Configuration: { S3Uri: 's3://b/p' } },
        Message: 'some resources failed',
      }),
    ).toMatchObject({
      status: 'COMPLETED_WITH_ERRORS',
      submitTime: '2024-05-01T10:00:00.123Z',
      outputS3Uri: 's3://b/p',
      message: 'some resources failed',
    });
    expect(readJobProperties({ SubmitTime: 1714557600.5 }).submitTime).toBe('2024-05-01T10:00:00.500Z');
    expect(readJobProperties({ submitTime: '2024-05-01T12:00:00+02:00' }).submitTime).toBe('2024-05-01T10:00:00.000Z');
    expect(readJobProperties({ OutputDataConfig: { S3Uri: 's3://old/shape/' } }).outputS3Uri).toBe('s3://old/shape/');
  });

  it('never guesses a time without a zone, nor an unknown status', () => {
    expect(readJobProperties({ submitTime: '2024-05-01T10:00:00', jobStatus: 'DONE' })).toEqual({});
    expect(() => jobStatusOf('DONE')).toThrow(ExportProtocolError);
  });
});

describe('exportJobFolder', () => {
  it('appends <datastoreId>-FHIR_EXPORT-<jobId>/ to the S3Uri given at kick-off', () => {
    expect(exportJobFolder('s3://b/fhir-exports', 'ds1', 'j1')).toBe('s3://b/fhir-exports/ds1-FHIR_EXPORT-j1/');
    expect(exportJobFolder('s3://b', 'ds1', 'j1')).toBe('s3://b/ds1-FHIR_EXPORT-j1/');
  });

  it('keeps an S3Uri that already names the job folder', () => {
    expect(exportJobFolder('s3://b/p/ds1-FHIR_EXPORT-j1/', 'ds1', 'j1')).toBe('s3://b/p/ds1-FHIR_EXPORT-j1/');
    expect(exportJobFolder('s3://b/p/ds1-FHIR_EXPORT-j1', 'ds1', 'j1')).toBe('s3://b/p/ds1-FHIR_EXPORT-j1/');
  });
});
