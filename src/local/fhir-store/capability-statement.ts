import { r4ResourceTypes } from './r4-definitions.js';
import { searchParametersOf } from './search-parameters.js';
import type { FhirResource } from './types.js';

/**
 * The server's CapabilityStatement: exactly the interactions, search parameters and
 * operations this store implements.
 *
 * @example
 * capabilityStatement('http://127.0.0.1:4000/datastore/abc/r4', new Date().toISOString());
 */
export function capabilityStatement(baseUrl: string, date: string): FhirResource {
  const resource = [...r4ResourceTypes().keys()].sort().map((type) => ({
    type,
    interaction: ['read', 'vread', 'update', 'delete', 'history-instance', 'history-type', 'create', 'search-type'].map(
      (code) => ({ code }),
    ),
    versioning: 'versioned-update',
    readHistory: true,
    updateCreate: true,
    conditionalCreate: true,
    conditionalUpdate: true,
    conditionalDelete: 'not-supported',
    searchParam: [
      { name: '_id', type: 'token', documentation: 'Logical id; comma-separated values are ORed.' },
      { name: '_lastUpdated', type: 'date', documentation: 'meta.lastUpdated with prefixes eq, ne, gt, ge, lt, le.' },
      ...searchParametersOf(type).map((param) => ({
        name: param.code,
        type: param.kind,
        documentation: param.documentation,
      })),
    ],
    ...(type === 'Patient'
      ? {
          operation: [
            { name: 'export', definition: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export' },
          ],
        }
      : {}),
  }));
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date,
    kind: 'instance',
    software: { name: 'Tributary embedded FHIR store (HealthLake stand-in)' },
    implementation: { description: 'Local AWS HealthLake stand-in for Tributary', url: baseUrl },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    instantiates: ['http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data'],
    rest: [
      {
        mode: 'server',
        documentation:
          'Search: _count (default 100, max 1000) and _offset paging with next links; _summary (count, true, text, data, false); ' +
          '_total (none, estimate, accurate); every token parameter of the R4 search parameter list (system|code, code, |code, ' +
          'system|); modifiers :exact and :contains on string parameters and a type modifier on reference parameters. ' +
          'Unsupported parameters are rejected with 400 unless the request has Prefer: handling=lenient, in which case they are ' +
          'ignored and reported in an OperationOutcome entry. History: _count, _offset, _since; next links carry _snapshot so ' +
          'later writes do not shift pages. Writes are validated against the R4 StructureDefinitions (400 OperationOutcome, one ' +
          'issue per problem with its path); an update with unchanged content (meta aside) creates no version; Prefer: ' +
          'return=minimal|representation|OperationOutcome is honoured, also for batch/transaction entries. ' +
          'Bulk export: _since, _type and _outputFormat; _typeFilter is not supported. Export manifests add a `deleted` list ' +
          '(Bulk Data v2), which HealthLake does not provide.',
        security: { description: 'No authentication; Authorization headers (e.g. SigV4) are accepted and ignored.' },
        resource,
        interaction: [{ code: 'transaction' }, { code: 'batch' }, { code: 'history-system' }],
        operation: [{ name: 'export', definition: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export' }],
      },
    ],
  };
}
