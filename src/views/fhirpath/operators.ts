import { FhirDecimal, numberText, toNumber } from './decimal.js';
import { FhirPathEvaluationError } from './errors.js';

/**
 * A collection as a boolean, per FHIRPath singleton evaluation: empty → `undefined` (unknown), one boolean → it,
 * one other value → `true`; several values are an error.
 *
 * @example
 * toBoolean([false]) // false
 */
export function toBoolean(collection: readonly unknown[]): boolean | undefined {
  if (collection.length === 0) return undefined;
  if (collection.length > 1) throw new FhirPathEvaluationError(`expected one boolean, got ${collection.length} values`);
  const value = collection[0];
  return typeof value === 'boolean' ? value : true;
}

const isNumeric = (value: unknown): value is number | FhirDecimal =>
  typeof value === 'number' || value instanceof FhirDecimal;

/**
 * FHIRPath `=` on two items: numbers by value (`1.0 = 1`), objects member by member.
 *
 * @example
 * itemEquals({ a: 1 }, { a: 1 }) // true
 */
export function itemEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (isNumeric(a) && isNumeric(b)) return toNumber(a) === toNumber(b);
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const aKeys = Object.keys(a);
  const bKeys = Object.keys(b);
  if (aKeys.length !== bKeys.length) return false;
  return aKeys.every(
    (key) =>
      Object.prototype.hasOwnProperty.call(b, key) &&
      itemEquals((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]),
  );
}

/**
 * FHIRPath `=` on two collections: empty if either is empty, else same size and equal item by item.
 *
 * @example
 * collectionEquals(['a'], ['a']) // [true]
 */
export function collectionEquals(left: readonly unknown[], right: readonly unknown[]): boolean[] {
  if (left.length === 0 || right.length === 0) return [];
  if (left.length !== right.length) return [false];
  for (let i = 0; i < left.length; i++) if (!itemEquals(left[i], right[i])) return [false];
  return [true];
}

const normalise = (text: string) => text.toLowerCase().trim().replace(/\s+/g, ' ');

/**
 * FHIRPath `~`: like `=`, but strings ignore case and extra whitespace, and two empties are equivalent.
 *
 * @example
 * collectionEquivalent(['A b'], ['a  B']) // [true]
 */
export function collectionEquivalent(left: readonly unknown[], right: readonly unknown[]): boolean[] {
  if (left.length === 0 && right.length === 0) return [true];
  if (left.length !== right.length) return [false];
  for (let i = 0; i < left.length; i++) {
    const a = left[i];
    const b = right[i];
    const same = typeof a === 'string' && typeof b === 'string' ? normalise(a) === normalise(b) : itemEquals(a, b);
    if (!same) return [false];
  }
  return [true];
}

/**
 * Orders two singletons for `<`, `>`, `<=`, `>=`: numbers by value, strings (and ISO dates/times of the same
 * precision) by code point. Empty result when either side is empty or the two cannot be compared.
 *
 * @example
 * compareCollections([1], [2]) // -1
 */
export function compareCollections(left: readonly unknown[], right: readonly unknown[]): number | undefined {
  if (left.length === 0 || right.length === 0) return undefined;
  if (left.length > 1 || right.length > 1)
    throw new FhirPathEvaluationError('comparison needs single values on both sides');
  const a = left[0];
  const b = right[0];
  if (isNumeric(a) && isNumeric(b)) return Math.sign(toNumber(a)! - toNumber(b)!);
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  return undefined;
}

/** Digits after the decimal point of a number as written. */
const scale = (value: number | FhirDecimal): number => {
  const text = numberText(value);
  if (/e/i.test(text)) return 15;
  const dot = text.indexOf('.');
  return dot < 0 ? 0 : text.length - dot - 1;
};

// Rounds a double result to the decimal places exact arithmetic would give, so 0.1 + 0.2 is 0.3 as in FHIRPath.
const roundTo = (value: number, places: number) => (places > 15 ? value : Number(value.toFixed(places)));

/**
 * FHIRPath arithmetic (`+ - * / div mod &`) on two collections; `+` also joins strings. Empty in, empty out
 * (except `&`, which reads empty as '').
 *
 * @example
 * arithmetic('+', [2], [3]) // [5]
 */
export function arithmetic(op: string, left: readonly unknown[], right: readonly unknown[]): unknown[] {
  if (op === '&') {
    const text = (c: readonly unknown[]) => (c.length === 0 ? '' : String(single(c, op)));
    return [text(left) + text(right)];
  }
  if (left.length === 0 || right.length === 0) return [];
  const a = single(left, op);
  const b = single(right, op);
  if (op === '+' && typeof a === 'string' && typeof b === 'string') return [a + b];
  if (!isNumeric(a) || !isNumeric(b)) throw new FhirPathEvaluationError(`operator '${op}' needs numbers`);
  const x = toNumber(a)!;
  const y = toNumber(b)!;
  switch (op) {
    case '+':
      return [roundTo(x + y, Math.max(scale(a), scale(b)))];
    case '-':
      return [roundTo(x - y, Math.max(scale(a), scale(b)))];
    case '*':
      return [roundTo(x * y, scale(a) + scale(b))];
    case '/':
      return y === 0 ? [] : [x / y];
    case 'div':
      return y === 0 ? [] : [Math.trunc(x / y)];
    case 'mod':
      return y === 0 ? [] : [roundTo(x % y, Math.max(scale(a), scale(b)))];
    default:
      throw new FhirPathEvaluationError(`unknown operator '${op}'`);
  }
}

function single(collection: readonly unknown[], op: string): unknown {
  if (collection.length > 1) throw new FhirPathEvaluationError(`operator '${op}' needs single values`);
  return collection[0];
}

/**
 * Three-valued `and`, `or`, `xor`, `implies` (FHIRPath truth tables; `undefined` is the empty collection).
 *
 * @example
 * logic('and', false, undefined) // false
 */
export function logic(op: string, a: boolean | undefined, b: boolean | undefined): boolean | undefined {
  switch (op) {
    case 'and':
      if (a === false || b === false) return false;
      return a === true && b === true ? true : undefined;
    case 'or':
      if (a === true || b === true) return true;
      return a === false && b === false ? false : undefined;
    case 'xor':
      return a === undefined || b === undefined ? undefined : a !== b;
    case 'implies':
      if (a === false || b === true) return true;
      return a === true && b === false ? false : undefined;
    default:
      throw new FhirPathEvaluationError(`unknown operator '${op}'`);
  }
}

/**
 * `|`: both collections, duplicates removed (FHIRPath union).
 *
 * @example
 * union([1, 2], [2, 3]) // [1, 2, 3]
 */
export function union(left: readonly unknown[], right: readonly unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const item of [...left, ...right]) if (!out.some((seen) => itemEquals(seen, item))) out.push(item);
  return out;
}
