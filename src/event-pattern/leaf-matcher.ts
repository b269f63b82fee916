import { compileCidr } from './cidr.js';
import { InvalidEventPatternError } from './errors.js';
import type { PatternDialect } from './types.js';
import { compileWildcard } from './wildcard.js';

/** A scalar leaf of an event: what value matchers compare against. */
type Scalar = string | number | boolean | null;
type ScalarMatcher = (value: Scalar) => boolean;

/** Matches the value an event holds at one pattern leaf path (scalar, array, object or absent). */
export type LeafMatcher = (eventValue: unknown) => boolean;

/** Operators EventBridge Pipes rejects although an event bus accepts them. */
const NOT_IN_PIPES = new Set([
  'anything-but.prefix',
  'anything-but.suffix',
  'anything-but.equals-ignore-case',
  'anything-but.wildcard',
  'wildcard',
]);

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

interface LeafContext {
  readonly path: string;
  readonly dialect: PatternDialect;
}

function requireDialect(context: LeafContext, operator: string): void {
  if (context.dialect === 'pipes' && NOT_IN_PIPES.has(operator)) {
    throw new InvalidEventPatternError(
      context.path,
      `${operator.replace('.', ' with ')} is not supported by EventBridge Pipes filters`,
    );
  }
}

function requireString(value: unknown, context: LeafContext, what: string): string {
  if (typeof value !== 'string') throw new InvalidEventPatternError(context.path, `${what} needs a string`);
  return value;
}

/** `"x"` or `{"equals-ignore-case": "x"}`, as `prefix` and `suffix` accept. */
function affix(value: unknown, context: LeafContext, operator: string): { text: string; ignoreCase: boolean } {
  if (typeof value === 'string') return { text: value, ignoreCase: false };
  if (isPlainObject(value)) {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === 'equals-ignore-case') {
      return {
        text: requireString(value['equals-ignore-case'], context, `${operator} equals-ignore-case`).toLowerCase(),
        ignoreCase: true,
      };
    }
  }
  throw new InvalidEventPatternError(context.path, `${operator} needs a string or {"equals-ignore-case": string}`);
}

const LOWER_OPS = new Set(['>', '>=']);
const UPPER_OPS = new Set(['<', '<=']);

function compileNumeric(spec: unknown, context: LeafContext): ScalarMatcher {
  const usage = 'numeric needs ["=", n] or one or two comparisons such as [">", 0, "<=", 5], with finite numbers';
  if (!Array.isArray(spec) || (spec.length !== 2 && spec.length !== 4))
    throw new InvalidEventPatternError(context.path, usage);
  let lower = -Infinity;
  let lowerInclusive = true;
  let upper = Infinity;
  let upperInclusive = true;
  let seenLower = false;
  let seenUpper = false;
  for (let index = 0; index < spec.length; index += 2) {
    const op: unknown = spec[index];
    const bound: unknown = spec[index + 1];
    if (typeof bound !== 'number' || !Number.isFinite(bound)) throw new InvalidEventPatternError(context.path, usage);
    if (op === '=') {
      if (spec.length !== 2) throw new InvalidEventPatternError(context.path, usage);
      lower = upper = bound;
      seenLower = seenUpper = true;
    } else if (typeof op === 'string' && LOWER_OPS.has(op) && !seenLower) {
      lower = bound;
      lowerInclusive = op === '>=';
      seenLower = true;
    } else if (typeof op === 'string' && UPPER_OPS.has(op) && !seenUpper) {
      upper = bound;
      upperInclusive = op === '<=';
      seenUpper = true;
    } else {
      throw new InvalidEventPatternError(context.path, usage);
    }
  }
  // A range no number satisfies (e.g. [">", 5, "<", 1]) is valid: it simply never matches.
  return (value) =>
    typeof value === 'number' &&
    (lowerInclusive ? value >= lower : value > lower) &&
    (upperInclusive ? value <= upper : value < upper);
}

function compileAnythingBut(spec: unknown, context: LeafContext): ScalarMatcher {
  if (typeof spec === 'string' || (typeof spec === 'number' && Number.isFinite(spec))) {
    return (value) => value !== spec;
  }
  if (Array.isArray(spec)) {
    const allStrings = spec.every((item) => typeof item === 'string');
    const allNumbers = spec.every((item) => typeof item === 'number' && Number.isFinite(item));
    if (spec.length === 0 || (!allStrings && !allNumbers)) {
      throw new InvalidEventPatternError(
        context.path,
        'anything-but needs a non-empty list of only strings or only numbers',
      );
    }
    const excluded = new Set<unknown>(spec);
    return (value) => !excluded.has(value);
  }
  if (isPlainObject(spec)) {
    const keys = Object.keys(spec);
    const operator = keys[0];
    if (keys.length === 1 && operator !== undefined) {
      const inner = spec[operator];
      requireDialect(context, `anything-but.${operator}`);
      // "Anything but" a string form: values that are not strings are never excluded.
      switch (operator) {
        case 'prefix': {
          const prefix = requireString(inner, context, 'anything-but prefix');
          return (value) => typeof value !== 'string' || !value.startsWith(prefix);
        }
        case 'suffix': {
          const suffix = requireString(inner, context, 'anything-but suffix');
          return (value) => typeof value !== 'string' || !value.endsWith(suffix);
        }
        case 'equals-ignore-case': {
          const list = stringList(inner, context, 'anything-but equals-ignore-case').map((text) => text.toLowerCase());
          const excluded = new Set(list);
          return (value) => typeof value !== 'string' || !excluded.has(value.toLowerCase());
        }
        case 'wildcard': {
          const patterns = stringList(inner, context, 'anything-but wildcard').map((text) =>
            compileWildcard(text, context.path),
          );
          return (value) => typeof value !== 'string' || !patterns.some((regex) => regex.test(value));
        }
        default:
          break;
      }
    }
  }
  throw new InvalidEventPatternError(
    context.path,
    'anything-but needs a string, a number, a list of either, or one of {prefix}, {suffix}, {equals-ignore-case}, {wildcard}',
  );
}

function stringList(value: unknown, context: LeafContext, what: string): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === 'string'))
    return value as string[];
  throw new InvalidEventPatternError(context.path, `${what} needs a string or a non-empty list of strings`);
}

/** Compiles one `{operator: …}` entry of a leaf list. */
function compileOperator(entry: Record<string, unknown>, context: LeafContext): ScalarMatcher | { exists: boolean } {
  const keys = Object.keys(entry);
  const operator = keys[0];
  if (keys.length !== 1 || operator === undefined) {
    throw new InvalidEventPatternError(context.path, 'a matcher object needs exactly one operator');
  }
  const spec = entry[operator];
  requireDialect(context, operator);
  switch (operator) {
    case 'exists':
      if (typeof spec !== 'boolean') throw new InvalidEventPatternError(context.path, 'exists needs true or false');
      return { exists: spec };
    case 'prefix': {
      const { text, ignoreCase } = affix(spec, context, 'prefix');
      return ignoreCase
        ? (value) => typeof value === 'string' && value.toLowerCase().startsWith(text)
        : (value) => typeof value === 'string' && value.startsWith(text);
    }
    case 'suffix': {
      const { text, ignoreCase } = affix(spec, context, 'suffix');
      return ignoreCase
        ? (value) => typeof value === 'string' && value.toLowerCase().endsWith(text)
        : (value) => typeof value === 'string' && value.endsWith(text);
    }
    case 'equals-ignore-case': {
      const lowered = requireString(spec, context, 'equals-ignore-case').toLowerCase();
      return (value) => typeof value === 'string' && value.toLowerCase() === lowered;
    }
    case 'anything-but':
      return compileAnythingBut(spec, context);
    case 'numeric':
      return compileNumeric(spec, context);
    case 'wildcard': {
      const regex = compileWildcard(requireString(spec, context, 'wildcard'), context.path);
      return (value) => typeof value === 'string' && regex.test(value);
    }
    case 'cidr': {
      const inRange = compileCidr(requireString(spec, context, 'cidr'), context.path);
      return (value) => typeof value === 'string' && inRange(value);
    }
    default:
      throw new InvalidEventPatternError(context.path, `unknown operator "${operator}"`);
  }
}

/** Pushes every scalar of a (possibly nested) event array; objects inside arrays are not leaves. */
function forEachScalar(values: readonly unknown[], visit: (value: Scalar) => boolean): boolean {
  for (const value of values) {
    if (Array.isArray(value)) {
      if (forEachScalar(value, visit)) return true;
    } else if (value === null || typeof value !== 'object') {
      if (visit(value as Scalar)) return true;
    }
  }
  return false;
}

function hasScalar(values: readonly unknown[]): boolean {
  return forEachScalar(values, () => true);
}

/**
 * Compiles the list at a pattern leaf (`"state": ["running", {"prefix": "x"}]`) into one matcher.
 * Entries are OR-ed. The event value counts as absent when missing, when it is an object (not a
 * leaf), or when it is an array without scalars; an array matches if any element does.
 */
export function compileLeaf(list: readonly unknown[], path: string, dialect: PatternDialect): LeafMatcher {
  if (list.length === 0) throw new InvalidEventPatternError(path, 'a match list must not be empty');
  const exact = new Set<Scalar>();
  const matchers: ScalarMatcher[] = [];
  let existsTrue = false;
  let existsFalse = false;
  list.forEach((entry, index) => {
    const context: LeafContext = { path: `${path}[${index}]`, dialect };
    if (entry === null || typeof entry === 'string' || typeof entry === 'boolean') {
      exact.add(entry);
    } else if (typeof entry === 'number') {
      if (!Number.isFinite(entry)) throw new InvalidEventPatternError(context.path, 'numbers must be finite');
      exact.add(entry);
    } else if (Array.isArray(entry)) {
      throw new InvalidEventPatternError(context.path, 'nested arrays are not allowed in a match list');
    } else if (isPlainObject(entry)) {
      const compiled = compileOperator(entry, context);
      if (typeof compiled === 'function') matchers.push(compiled);
      else if (compiled.exists) existsTrue = true;
      else existsFalse = true;
    } else {
      throw new InvalidEventPatternError(
        context.path,
        'a match list holds strings, numbers, booleans, null or operator objects',
      );
    }
  });
  const hasExact = exact.size > 0;
  const matchScalar = (value: Scalar): boolean => {
    if (hasExact && exact.has(value)) return true;
    for (const matcher of matchers) if (matcher(value)) return true;
    return false;
  };
  return (eventValue) => {
    if (eventValue === undefined) return existsFalse;
    if (Array.isArray(eventValue)) {
      if (!hasScalar(eventValue)) return existsFalse;
      return existsTrue || forEachScalar(eventValue, matchScalar);
    }
    if (eventValue !== null && typeof eventValue === 'object') return existsFalse;
    return existsTrue || matchScalar(eventValue as Scalar);
  };
}
