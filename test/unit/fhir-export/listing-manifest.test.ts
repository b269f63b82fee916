import { describe, expect, it } from 'vitest';
import { ExportProtocolError } from '../../../src/fhir-export/errors.js';
import { manifestFilesFromListing } from '../../../src/fhir-export/listing-manifest.js';

const folder = { bucket: 'exports', key: 'fhir/ds1-FHIR_EXPORT-j1/' };

describe('manifestFilesFromListing', () => {
  it('derives each output file type from its HealthLake key <Type>/<Type>-….ndjson', () => {
    const files = manifestFilesFromListing(folder, [
      'fhir/ds1-FHIR_EXPORT-j1/Patient/Patient-1022280015944103279-3-0.ndjson',
      'fhir/ds1-FHIR_EXPORT-j1/Observation/Observation-0.ndjson',
      'fhir/ds1-FHIR_EXPORT-j1/Observation/Observation-1.ndjson',
    ]);
    expect(files).toEqual({
      output: [
        { type: 'Observation', url: 's3://exports/fhir/ds1-FHIR_EXPORT-j1/Observation/Observation-0.ndjson' },
        { type: 'Observation', url: 's3://exports/fhir/ds1-FHIR_EXPORT-j1/Observation/Observation-1.ndjson' },
        {
          type: 'Patient',
          url: 's3://exports/fhir/ds1-FHIR_EXPORT-j1/Patient/Patient-1022280015944103279-3-0.ndjson',
        },
      ],
      deleted: [],
      error: [],
    });
  });

  it('recognises _deleted Bundles and _errors OperationOutcomes, and flat <Type>-<n>.ndjson names', () => {
    const files = manifestFilesFromListing({ bucket: 'b', key: 'ds-FHIR_EXPORT-j' }, [
      'ds-FHIR_EXPORT-j/_deleted/Bundle-0.ndjson',
      'ds-FHIR_EXPORT-j/_errors/OperationOutcome-0.ndjson',
      'ds-FHIR_EXPORT-j/Encounter-0.ndjson',
    ]);
    expect(files.output).toEqual([{ type: 'Encounter', url: 's3://b/ds-FHIR_EXPORT-j/Encounter-0.ndjson' }]);
    expect(files.deleted).toEqual([{ type: 'Bundle', url: 's3://b/ds-FHIR_EXPORT-j/_deleted/Bundle-0.ndjson' }]);
    expect(files.error).toEqual([
      { type: 'OperationOutcome', url: 's3://b/ds-FHIR_EXPORT-j/_errors/OperationOutcome-0.ndjson' },
    ]);
  });

  it('skips objects that are not .ndjson or lie outside the folder (another job with a longer id)', () => {
    const files = manifestFilesFromListing(folder, [
      'fhir/ds1-FHIR_EXPORT-j1/manifest.json',
      'fhir/ds1-FHIR_EXPORT-j1/',
      'fhir/ds1-FHIR_EXPORT-j10/Patient/Patient-0.ndjson',
    ]);
    expect(files).toEqual({ output: [], deleted: [], error: [] });
  });

  it('refuses an .ndjson file whose type cannot be told rather than leaving it out', () => {
    expect(() => manifestFilesFromListing(folder, ['fhir/ds1-FHIR_EXPORT-j1/weird/x.ndjson'])).toThrow(
      ExportProtocolError,
    );
  });
});
