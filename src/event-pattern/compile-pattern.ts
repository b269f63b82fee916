import { InvalidEventPatternError } from './errors.js';
import { compileLeaf } from './leaf-matcher.js';
import type { CompiledPattern, CompilePatternOptions, EventPattern, NodeMatcher, PatternDialect } from './types.js';

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const childPath = (path: string, key: string) => (path === '' ? key : `${path}.${key}`);

/** The event's value under `key`, if the event node is an object that has it. */
function field(node: unknown, key: string): unknown {
  return isPlainObject(node) && Object.hasOwn(node, key) ? node[key] : undefined;
}

/**
 * Matches a nested pattern object against the event value at the same place. An array of objects (nested arrays
 * flattened, as EventBridge "crushes" them) matches if one element matches as a whole, so conditions on two fields
 * come from the same element — except for a pattern that absence alone satisfies (only `exists: false`): the field
 * must then be absent from every element, since EventBridge matches such a pattern only on events that do not have
 * the field at all. Anything that is not an object has no fields, so only `exists: false` can match below it.
 */
function nested(child: NodeMatcher): NodeMatcher {
  const absenceOnly = child(undefined);
  return (value) => {
    if (Array.isArray(value)) return matchObjects(value, child, absenceOnly) ?? absenceOnly;
    return child(isPlainObject(value) ? value : undefined);
  };
}

/**
 * `child` over the objects of an event array, nested arrays included, without copying it: with `every`, whether all
 * match, else whether one does; `undefined` when the array holds no object.
 */
function matchObjects(array: readonly unknown[], child: NodeMatcher, every: boolean): boolean | undefined {
  let seen: boolean | undefined;
  for (const element of array) {
    const result = Array.isArray(element)
      ? matchObjects(element, child, every)
      : isPlainObject(element)
        ? child(element)
        : undefined;
    if (result === undefined) continue;
    if (result !== every) return result;
    seen = result;
  }
  return seen;
}

function compileObject(pattern: Record<string, unknown>, path: string, dialect: PatternDialect): NodeMatcher {
  const keys = Object.keys(pattern);
  if (keys.length === 0) throw new InvalidEventPatternError(path, 'an object in a pattern needs at least one field');
  const conditions: NodeMatcher[] = keys.map((key) => {
    const value = pattern[key];
    const here = childPath(path, key);
    if (key === '$or' && Array.isArray(value) && value.every(isPlainObject)) {
      if (value.length < 2) throw new InvalidEventPatternError(here, '$or needs at least two patterns');
      const alternatives = value.map((alternative, index) => compileObject(alternative, `${here}[${index}]`, dialect));
      return (node) => alternatives.some((alternative) => alternative(node));
    }
    if (Array.isArray(value)) {
      const leaf = compileLeaf(value, here, dialect);
      return (node) => leaf(field(node, key));
    }
    if (isPlainObject(value)) {
      const child = nested(compileObject(value, here, dialect));
      return (node) => child(field(node, key));
    }
    throw new InvalidEventPatternError(here, 'must be a match list (array) or a nested pattern (object)');
  });
  if (conditions.length === 1) return conditions[0] as NodeMatcher;
  return (node) => {
    for (const condition of conditions) if (!condition(node)) return false;
    return true;
  };
}

/**
 * Validates and compiles an EventBridge event pattern (object or JSON text). Throws
 * {@link InvalidEventPatternError} naming the bad path. A pattern no event can match is still valid.
 *
 * @example
 * const onlySite2 = compilePattern({ dynamodb: { NewImage: { siteId: { S: ['2'] } } } });
 * matches(onlySite2, { dynamodb: { NewImage: { siteId: { S: '2' } } } }) // true
 */
export function compilePattern(pattern: EventPattern | string, options: CompilePatternOptions = {}): CompiledPattern {
  let parsed: unknown = pattern;
  if (typeof pattern === 'string') {
    try {
      parsed = JSON.parse(pattern);
    } catch {
      throw new InvalidEventPatternError('', 'is not valid JSON');
    }
  }
  if (!isPlainObject(parsed)) throw new InvalidEventPatternError('', 'must be a JSON object');
  const test = compileObject(parsed, '', options.dialect ?? 'eventbridge');
  return { pattern: parsed, json: JSON.stringify(parsed), test };
}

/**
 * True if the event matches the compiled pattern.
 *
 * @example
 * matches(compilePattern({ eventName: ['INSERT', 'MODIFY'] }), { eventName: 'REMOVE' }) // false
 */
export function matches(compiled: CompiledPattern, event: unknown): boolean {
  return compiled.test(event);
}
