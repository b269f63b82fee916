import { LosslessNumber } from 'lossless-json';
import { InvalidAttributeValueError } from './errors.js';
import type { AttributeMap, AttributeValue, PlainItem, PlainValue } from './types.js';

/** JSON's number grammar; DynamoDB returns canonical numbers, which already satisfy it. */
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
/** Looser forms DynamoDB accepts on input (`+5`, `007`, `.5`, `5.`), normalised rather than rejected. */
const LOOSE_NUMBER = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/**
 * Parses a DynamoDB N string to an exact {@link LosslessNumber} (the digits are kept verbatim).
 *
 * @example
 * exactNumber('12345678901234567890123456789012345678').toString() // same 38 digits
 */
export function exactNumber(text: string): LosslessNumber {
  if (JSON_NUMBER.test(text)) return new LosslessNumber(text);
  const loose = LOOSE_NUMBER.exec(text.trim());
  const integer = loose?.[2] ?? '';
  const fraction = loose?.[3] ?? '';
  if (loose === null || (integer === '' && fraction === '')) {
    throw new InvalidAttributeValueError([], 'N is not a number');
  }
  const sign = loose[1] === '-' ? '-' : '';
  const exponent = loose[4] === undefined ? '' : `e${loose[4]}`;
  const digits = integer.replace(/^0+(?=\d)/, '') || '0';
  return new LosslessNumber(`${sign}${digits}${fraction === '' ? '' : `.${fraction}`}${exponent}`);
}

function base64(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array)
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  throw new InvalidAttributeValueError([], 'B must be base64 text or bytes');
}

function list<T>(value: unknown, type: string, map: (item: unknown, index: number) => T): T[] {
  if (!Array.isArray(value)) throw new InvalidAttributeValueError([], `${type} must be an array`);
  const out = new Array<T>(value.length);
  for (let index = 0; index < value.length; index++) {
    try {
      out[index] = map(value[index], index);
    } catch (error) {
      throw error instanceof InvalidAttributeValueError ? error.within(`${type}[${index}]`) : error;
    }
  }
  return out;
}

function requireString(value: unknown, type: string): string {
  if (typeof value !== 'string') throw new InvalidAttributeValueError([], `${type} must be a string`);
  return value;
}

/**
 * Converts one DynamoDB AttributeValue to plain JSON without losing precision: N and NS become
 * {@link LosslessNumber}, SS/NS/BS become arrays, B/BS become base64 text.
 *
 * @example
 * unmarshallValue({ M: { n: { N: '1.5e3' }, tags: { SS: ['a'] } } }) // { n: LosslessNumber('1.5e3'), tags: ['a'] }
 */
export function unmarshallValue(value: AttributeValue): PlainValue {
  if (typeof value !== 'object' || value === null) throw new InvalidAttributeValueError([], 'is not an AttributeValue');
  // One own key decides the type; checking the common types first keeps the hot path short.
  if (value.S !== undefined) return requireString(value.S, 'S');
  if (value.N !== undefined) return exactNumber(requireString(value.N, 'N'));
  if (value.BOOL !== undefined) {
    if (typeof value.BOOL !== 'boolean') throw new InvalidAttributeValueError([], 'BOOL must be a boolean');
    return value.BOOL;
  }
  if (value.NULL !== undefined) return null;
  if (value.M !== undefined) return unmarshallItem(value.M);
  if (value.L !== undefined) return list(value.L, 'L', (item) => unmarshallValue(item as AttributeValue));
  if (value.SS !== undefined) return list(value.SS, 'SS', (item) => requireString(item, 'SS item'));
  if (value.NS !== undefined) return list(value.NS, 'NS', (item) => exactNumber(requireString(item, 'NS item')));
  if (value.B !== undefined) return base64(value.B);
  if (value.BS !== undefined) return list(value.BS, 'BS', base64);
  throw new InvalidAttributeValueError([], 'has no known type (S, N, B, SS, NS, BS, M, L, NULL, BOOL)');
}

/**
 * Converts an item image (attribute name → AttributeValue) to a plain object.
 * Errors name the attribute path, never its value.
 *
 * @example
 * unmarshallItem({ id: { S: '123' }, valueOne: { N: '123' } }) // { id: '123', valueOne: LosslessNumber('123') }
 */
export function unmarshallItem(image: AttributeMap): PlainItem {
  if (typeof image !== 'object' || image === null || Array.isArray(image)) {
    throw new InvalidAttributeValueError([], 'an item image must be an object');
  }
  const out: PlainItem = {};
  for (const name in image) {
    if (!Object.hasOwn(image, name)) continue;
    try {
      const value = unmarshallValue(image[name] as AttributeValue);
      // An attribute named `__proto__` would set the prototype instead of a key (and vanish from the line).
      if (name === '__proto__')
        Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
      else out[name] = value;
    } catch (error) {
      throw error instanceof InvalidAttributeValueError ? error.within(name) : error;
    }
  }
  return out;
}
