import { parse } from 'lossless-json';

/**
 * A FHIR decimal kept as its JSON text, because a double would change it: FHIR decimals carry their precision
 * (`1.0` is not `1`, which `lowBoundary()` depends on) and may have more digits than a double holds.
 * Only numbers whose text a double would not reproduce are kept this way; every other number stays a `number`.
 *
 * @example
 * new FhirDecimal('1.0').valueOf() // 1
 */
export class FhirDecimal {
  public constructor(public readonly text: string) {}

  /** The nearest double. */
  public valueOf(): number {
    return Number(this.text);
  }

  public toJSON(): number | string {
    return decimalOutput(this.text);
  }
}

/**
 * A number from a FHIRPath value: numbers and {@link FhirDecimal}s; `undefined` for anything else.
 *
 * @example
 * toNumber(new FhirDecimal('1.50')) // 1.5
 */
export function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (value instanceof FhirDecimal) return Number(value.text);
  return undefined;
}

/**
 * The text of a number as written (a {@link FhirDecimal}'s own text, else the shortest double text).
 *
 * @example
 * numberText(new FhirDecimal('1.0')) // '1.0'
 */
export const numberText = (value: number | FhirDecimal): string =>
  typeof value === 'number' ? String(value) : value.text;

/**
 * A decimal's text as a row value: a number when a double holds it exactly enough (≤ 15 significant digits),
 * else the text, so that no digit is silently lost (the lake's rule for numbers a DOUBLE would round).
 *
 * @example
 * decimalOutput('0.95') // 0.95
 */
export function decimalOutput(text: string): number | string {
  const digits = text
    .replace(/^[-+]?0*\.?0*/, '')
    .replace(/[eE].*$/, '')
    .replace('.', '');
  return digits.length <= 15 ? Number(text) : text;
}

/**
 * Parses JSON keeping the decimals a double would change as {@link FhirDecimal}. Fast path: `JSON.parse` when no
 * number in the text could be affected (no trailing fractional zero, no long digit run, no exponent).
 *
 * @example
 * parseJsonPreservingDecimals('{"value":1.0}') // { value: FhirDecimal('1.0') }
 */
export function parseJsonPreservingDecimals(text: string): unknown {
  if (!MAYBE_CHANGED.test(text)) return JSON.parse(text);
  return losslessParse(text);
}

// A fractional part ending in 0, 16+ digits in a row, or an exponent: the only number texts a double can change.
// A JSON number ends at `,` `}` `]`, whitespace or the end of the text, so a fraction ending in 0 must be followed by
// one of those: instants in strings (`…T00:00:00.000Z`, on every `meta.lastUpdated`) do not send a line to the slow
// lossless parser. False positives (such text inside a string) only cost speed.
const MAYBE_CHANGED = /\d(?:\.\d*0(?=\s*[,}\]]|\s*$)|\d{15,}|[eE][-+]?\d)/;

/** lossless-json (a dependency already) hands each number's text to us; used only on lines {@link MAYBE_CHANGED} flags. */
function losslessParse(text: string): unknown {
  return parse(text, null, (num: string) => (String(Number(num)) === num ? Number(num) : new FhirDecimal(num)));
}
