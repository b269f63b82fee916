import { FhirDecimal } from './decimal.js';

/**
 * The FHIR primitive types whose JSON is a string and which stay text in SQL (dates too: FHIR allows partial values).
 * `instant` and `xhtml` are strings as well, but are left to each reader.
 */
export const FHIR_TEXT_TYPES: readonly string[] = [
  'string',
  'code',
  'id',
  'uri',
  'url',
  'canonical',
  'oid',
  'uuid',
  'markdown',
  'base64Binary',
  'date',
  'dateTime',
  'time',
];

const STRING_TYPES = new Set([...FHIR_TEXT_TYPES, 'xhtml', 'instant', 'String', 'Date', 'DateTime', 'Time']);
const INTEGER_TYPES = new Set(['integer', 'positiveInt', 'unsignedInt', 'integer64', 'Integer', 'Long']);

/**
 * A type specifier without its namespace: `FHIR.Quantity` → `Quantity`, `System.String` → `String`.
 *
 * @example
 * bareTypeName('FHIR.Patient') // 'Patient'
 */
export const bareTypeName = (name: string): string => name.replace(/^(FHIR|System)\./, '');

/**
 * Whether a JSON value is of a type, as far as JSON alone tells (no model): strings are any string-like
 * primitive, integers any whole number, resources by `resourceType`. Complex data types cannot be told apart
 * from their JSON, so they never match here; `ofType` on a choice element reads the typed key instead.
 *
 * @example
 * isOfType(3, 'integer') // true
 */
export function isOfType(value: unknown, typeName: string): boolean {
  const type = bareTypeName(typeName);
  if (typeof value === 'string') return STRING_TYPES.has(type);
  if (typeof value === 'boolean') return type === 'boolean' || type === 'Boolean';
  if (typeof value === 'number' || value instanceof FhirDecimal) {
    if (INTEGER_TYPES.has(type)) return Number.isInteger(Number(value));
    return type === 'decimal' || type === 'Decimal';
  }
  if (value !== null && typeof value === 'object') {
    const resourceType = (value as { resourceType?: unknown }).resourceType;
    return (
      resourceType === type || (typeof resourceType === 'string' && (type === 'Resource' || type === 'DomainResource'))
    );
  }
  return false;
}
