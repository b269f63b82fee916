import { describe, expect, it } from 'vitest';
import { locateExportUrl, parseS3Prefix, toS3Uri } from '../../../src/fhir-export/locate.js';
import { UnsupportedOutputUrlError } from '../../../src/fhir-export/errors.js';

describe('locateExportUrl', () => {
  it('parses s3:// URIs, keeping keys that contain the word "exports"', () => {
    expect(
      locateExportUrl('s3://my-bucket/exports/sub/exports/ds-FHIR_EXPORT-j1/Patient/Patient-1-1-1.ndjson'),
    ).toEqual({
      bucket: 'my-bucket',
      key: 'exports/sub/exports/ds-FHIR_EXPORT-j1/Patient/Patient-1-1-1.ndjson',
    });
  });

  it('parses virtual-hosted and path-style S3 URLs, any region, percent-decoded, query ignored', () => {
    expect(locateExportUrl('https://b1.s3.eu-west-2.amazonaws.com/a%20b/Patient-1.ndjson?X-Amz-Signature=abc')).toEqual(
      { bucket: 'b1', key: 'a b/Patient-1.ndjson' },
    );
    expect(locateExportUrl('https://b2.s3.amazonaws.com/k.ndjson')).toEqual({ bucket: 'b2', key: 'k.ndjson' });
    expect(locateExportUrl('https://s3.ap-southeast-2.amazonaws.com/b3/x/y.ndjson')).toEqual({
      bucket: 'b3',
      key: 'x/y.ndjson',
    });
    expect(locateExportUrl('https://my.dotted.bucket.s3.us-east-1.amazonaws.com/z.ndjson')).toEqual({
      bucket: 'my.dotted.bucket',
      key: 'z.ndjson',
    });
  });

  it('refuses URLs that name no S3 object', () => {
    for (const url of [
      'https://example.org/exports/Patient.ndjson',
      's3://bucket-only',
      'not a url',
      'https://s3.amazonaws.com/bucket-only/',
    ]) {
      expect(() => locateExportUrl(url)).toThrow(UnsupportedOutputUrlError);
    }
  });

  it('round-trips with toS3Uri and splits prefixes', () => {
    expect(locateExportUrl(toS3Uri({ bucket: 'b', key: 'p/q.ndjson' }))).toEqual({ bucket: 'b', key: 'p/q.ndjson' });
    expect(parseS3Prefix('s3://b/fhir-exports/')).toEqual({ bucket: 'b', prefix: 'fhir-exports/' });
  });
});
