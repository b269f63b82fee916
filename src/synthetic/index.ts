export * from './types.js';
export * from './errors.js';
export { createRandom, mixSeed, type Random } from './prng.js';
export { CODE_SYSTEMS, CONDITIONS, LABS, VITAL_SIGNS } from './catalog.js';
export { resolvePopulationOptions, DEFAULT_NOW, type ResolvedPopulationOptions } from './options.js';
export {
  generateDirectory,
  directoryResources,
  practitionerId,
  organizationId,
  PRACTITIONER_COUNT,
  ORGANIZATION_COUNT,
} from './directory.js';
export { planPatient, patientId, type PatientPlan } from './patient-plan.js';
export { renderPatientResources, literalReferences, resourceIds, type ReferenceResolver } from './fhir-resources.js';
export { generatePopulation, generatePatientPlans, buildPatientBundle, estimateResources } from './population.js';
export { generateDomainRecords, toDomainPatient, toDomainVisits } from './domain-records.js';
export { seedFhir, type SeedFhirOptions } from './fhir-loader.js';
export {
  seedDynamo,
  ensureSeedTables,
  SEED_TABLES,
  type SeedDynamoOptions,
  type DynamoSeedCounts,
} from './dynamo-loader.js';
export {
  writePopulationNdjson,
  type NdjsonPopulationOptions,
  type NdjsonPopulationSummary,
  type NdjsonFileSummary,
} from './ndjson-writer.js';
