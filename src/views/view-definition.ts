import { ViewDefinitionError } from './errors.js';
import type { ColumnDefinition, SelectDefinition, ViewConstant, ViewDefinition } from './types.js';

// ViewDefinition name/column name/constant name: a database-friendly identifier (SQL on FHIR v2 `sql-name`).
const SQL_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
const RESOURCE_TYPE = /^[A-Z][A-Za-z]+$/;
const SELECT_KEYS = new Set(['column', 'select', 'forEach', 'forEachOrNull', 'repeat', 'unionAll', 'extension', 'id']);
const COLUMN_KEYS = new Set(['name', 'path', 'type', 'collection', 'description', 'tag', 'extension', 'id']);
// Constant types of SQL on FHIR v2 (`ViewDefinition.constant.value[x]`), and the JSON type each must have.
const CONSTANT_TYPES: Readonly<Record<string, 'string' | 'number' | 'integer' | 'boolean'>> = {
  base64Binary: 'string',
  boolean: 'boolean',
  canonical: 'string',
  code: 'string',
  date: 'string',
  dateTime: 'string',
  decimal: 'number',
  id: 'string',
  instant: 'string',
  integer: 'integer',
  integer64: 'string',
  oid: 'string',
  string: 'string',
  positiveInt: 'integer',
  time: 'string',
  unsignedInt: 'integer',
  uri: 'string',
  url: 'string',
  uuid: 'string',
};

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

const describe = (value: unknown) =>
  Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`;

/**
 * Checks a parsed ViewDefinition's structure and returns it normalised; expressions are compiled later.
 * Throws {@link ViewDefinitionError} naming the first element at fault.
 *
 * @example
 * validateViewDefinition({ resource: 'Patient', select: [{ column: [{ name: 'id', path: 'id' }] }] }).resource // 'Patient'
 */
export function validateViewDefinition(raw: unknown, file?: string): ViewDefinition {
  const fail = (path: string, reason: string): never => {
    throw new ViewDefinitionError(path, reason, file);
  };
  if (!isObject(raw)) return fail('', `a ViewDefinition must be a JSON object, got ${describe(raw)}`);
  if (raw.resourceType !== undefined && raw.resourceType !== 'ViewDefinition')
    fail('resourceType', `must be 'ViewDefinition'`);
  if (raw.resource === undefined) fail('resource', 'is required (the resource type the view reads)');
  if (typeof raw.resource !== 'string' || !RESOURCE_TYPE.test(raw.resource))
    fail('resource', 'must be a FHIR resource type name, like Patient');
  if (raw.name !== undefined && (typeof raw.name !== 'string' || !SQL_NAME.test(raw.name)))
    fail('name', 'must be letters, digits and underscores, starting with a letter');

  const constants = arrayOf(raw.constant, 'constant', fail).map((constant, i) =>
    readConstant(constant, `constant[${i}]`, fail),
  );
  const seen = new Set<string>();
  constants.forEach((constant, i) => {
    if (seen.has(constant.name)) fail(`constant[${i}].name`, `duplicate constant '${constant.name}'`);
    seen.add(constant.name);
  });

  if (raw.select === undefined) fail('select', 'is required');
  const select = arrayOf(raw.select, 'select', fail).map((node, i) => readSelect(node, `select[${i}]`, fail));
  if (select.length === 0) fail('select', 'must have at least one element');

  const where = arrayOf(raw.where, 'where', fail).map((clause, i) => {
    const at = `where[${i}]`;
    if (!isObject(clause)) return fail(at, `must be an object, got ${describe(clause)}`);
    if (typeof clause.path !== 'string') return fail(`${at}.path`, 'is required and must be a string');
    return { path: clause.path, at: `${at}.path` };
  });

  return { name: raw.name as string | undefined, resource: raw.resource as string, constants, select, where };
}

type Fail = (path: string, reason: string) => never;

function arrayOf(value: unknown, path: string, fail: Fail): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) return fail(path, `must be an array, got ${describe(value)}`);
  return value;
}

function readConstant(raw: unknown, at: string, fail: Fail): ViewConstant {
  if (!isObject(raw)) return fail(at, `must be an object, got ${describe(raw)}`);
  if (typeof raw.name !== 'string' || !SQL_NAME.test(raw.name))
    fail(`${at}.name`, 'is required: letters, digits and underscores, starting with a letter');
  const valueKeys = Object.keys(raw).filter((key) => key.startsWith('value'));
  if (valueKeys.length !== 1)
    fail(at, valueKeys.length === 0 ? 'has no value (valueString, valueInteger, …)' : 'has more than one value[x]');
  const key = valueKeys[0]!;
  const type = key.charAt(5).toLowerCase() + key.slice(6);
  const expected = CONSTANT_TYPES[type];
  if (!expected) fail(`${at}.${key}`, `unsupported constant type '${type}'`);
  const value = raw[key];
  const number = typeof value === 'number' || (isObject(value) && 'text' in value);
  const ok =
    expected === 'boolean'
      ? typeof value === 'boolean'
      : expected === 'string'
        ? typeof value === 'string'
        : expected === 'integer'
          ? typeof value === 'number' && Number.isInteger(value)
          : number;
  if (!ok) fail(`${at}.${key}`, `must be ${expected === 'integer' ? 'an integer' : `a ${expected}`}`);
  return { name: raw.name as string, type, value };
}

function readSelect(raw: unknown, at: string, fail: Fail): SelectDefinition {
  if (!isObject(raw)) return fail(at, `must be an object, got ${describe(raw)}`);
  for (const key of Object.keys(raw)) if (!SELECT_KEYS.has(key)) fail(`${at}.${key}`, 'unknown element');
  const node: SelectDefinition = {
    path: at,
    column: arrayOf(raw.column, `${at}.column`, fail).map((column, i) =>
      readColumn(column, `${at}.column[${i}]`, fail),
    ),
    select: arrayOf(raw.select, `${at}.select`, fail).map((child, i) => readSelect(child, `${at}.select[${i}]`, fail)),
    unionAll: arrayOf(raw.unionAll, `${at}.unionAll`, fail).map((child, i) =>
      readSelect(child, `${at}.unionAll[${i}]`, fail),
    ),
  };
  const iterations = ['forEach', 'forEachOrNull', 'repeat'].filter((key) => raw[key] !== undefined);
  if (iterations.length > 1) fail(`${at}.${iterations[1]}`, `cannot be combined with ${iterations[0]}`);
  for (const key of ['forEach', 'forEachOrNull'] as const) {
    if (raw[key] === undefined) continue;
    if (typeof raw[key] !== 'string') fail(`${at}.${key}`, `must be a FHIRPath string, got ${describe(raw[key])}`);
    node.forEach = { expression: raw[key] as string, orNull: key === 'forEachOrNull', path: `${at}.${key}` };
  }
  if (raw.repeat !== undefined) {
    const repeat = arrayOf(raw.repeat, `${at}.repeat`, fail);
    if (repeat.length === 0) fail(`${at}.repeat`, 'must have at least one expression');
    repeat.forEach((expression, i) => {
      if (typeof expression !== 'string')
        fail(`${at}.repeat[${i}]`, `must be a FHIRPath string, got ${describe(expression)}`);
    });
    node.repeat = { expressions: repeat as string[], path: `${at}.repeat` };
  }
  return node;
}

function readColumn(raw: unknown, at: string, fail: Fail): ColumnDefinition {
  if (!isObject(raw)) return fail(at, `must be an object, got ${describe(raw)}`);
  for (const key of Object.keys(raw)) if (!COLUMN_KEYS.has(key)) fail(`${at}.${key}`, 'unknown element');
  if (typeof raw.name !== 'string' || !SQL_NAME.test(raw.name))
    fail(`${at}.name`, 'is required: letters, digits and underscores, starting with a letter');
  if (typeof raw.path !== 'string') fail(`${at}.path`, 'is required and must be a FHIRPath string');
  if (raw.collection !== undefined && typeof raw.collection !== 'boolean')
    fail(`${at}.collection`, 'must be a boolean');
  if (raw.type !== undefined && typeof raw.type !== 'string') fail(`${at}.type`, 'must be a string');
  return {
    name: raw.name as string,
    path: raw.path as string,
    type: raw.type as string | undefined,
    collection: raw.collection === true,
    description: typeof raw.description === 'string' ? raw.description : undefined,
    at,
  };
}
