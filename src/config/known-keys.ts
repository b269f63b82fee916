import type { z } from 'zod';

/** The parts of a zod 4 schema definition this walk reads. */
interface SchemaDef {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  element?: z.ZodType;
  valueType?: z.ZodType;
  options?: z.ZodType[];
  in?: z.ZodType;
}

const defOf = (schema: z.ZodType) => schema._zod.def as unknown as SchemaDef;

/** Wrappers that hold one schema (`.optional()`, `.default()`, `.prefault()`…). */
const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'catch', 'readonly', 'nonoptional']);

/** The object schemas a value at this schema may be checked against (several for a union). */
function objectsOf(schema: z.ZodType): SchemaDef[] {
  const def = defOf(schema);
  if (WRAPPERS.has(def.type) && def.innerType) return objectsOf(def.innerType);
  if (def.type === 'pipe' && def.in) return objectsOf(def.in);
  if (def.type === 'union') return (def.options ?? []).flatMap(objectsOf);
  return def.type === 'object' ? [def] : [];
}

/** The schemas one path segment leads to from this schema. */
function childrenOf(schema: z.ZodType, segment: PropertyKey): z.ZodType[] {
  const def = defOf(schema);
  if (WRAPPERS.has(def.type) && def.innerType) return childrenOf(def.innerType, segment);
  if (def.type === 'pipe' && def.in) return childrenOf(def.in, segment);
  if (def.type === 'union') return (def.options ?? []).flatMap((option) => childrenOf(option, segment));
  if (def.type === 'array' && typeof segment === 'number' && def.element) return [def.element];
  if (def.type === 'record' && def.valueType) return [def.valueType];
  if (def.type === 'object' && typeof segment === 'string' && def.shape?.[segment]) return [def.shape[segment]];
  return [];
}

/**
 * The keys the schema allows on the object at `path` (for a union, the keys of every option), used to
 * suggest what a misspelled key meant.
 *
 * @example
 * knownKeysAt(configSchema, ['tables', 0, 'pipe']) // ['filter', 'partitionBy', …]
 */
export function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let schemas = [schema];
  for (const segment of path) schemas = schemas.flatMap((s) => childrenOf(s, segment));
  const keys = new Set<string>();
  for (const def of schemas.flatMap(objectsOf)) for (const key of Object.keys(def.shape ?? {})) keys.add(key);
  return [...keys];
}
