import { FhirDecimal, numberText } from './decimal.js';

/**
 * The FHIR type a value's boundaries are computed for: the compile-time type when known (`ofType(dateTime)`),
 * else read from the value's shape (a date `1970-06`, a dateTime with `T`, a time `12:34`, a number).
 */
function kindOf(value: unknown, type: string | undefined): 'decimal' | 'date' | 'dateTime' | 'time' | undefined {
  if (typeof value === 'number' || value instanceof FhirDecimal) return 'decimal';
  if (typeof value !== 'string') return undefined;
  if (type === 'date' || type === 'dateTime' || type === 'time') return type;
  if (type === 'instant') return 'dateTime';
  if (/^\d{4}(-\d{2}(-\d{2})?)?$/.test(value)) return 'date';
  if (/^\d{4}(-\d{2}(-\d{2})?)?T/.test(value)) return 'dateTime';
  if (/^\d{2}(:\d{2}(:\d{2}(\.\d+)?)?)?$/.test(value)) return 'time';
  return undefined;
}

/**
 * FHIRPath `lowBoundary()` / `highBoundary()` of one value: the least / greatest value its precision allows.
 * Decimals gain one digit (`1.0` → `0.95` / `1.05`); dates fill the missing month and day; dateTimes fill the
 * time and, without an offset, take the widest ones (+14:00 low, -12:00 high); times fill to milliseconds.
 * `precision` (decimal places for decimals) is honoured for decimals only. `undefined` when not applicable.
 *
 * @example
 * boundary('1970-06', 'high', 'date') // '1970-06-30'
 */
export function boundary(value: unknown, side: 'low' | 'high', type?: string, precision?: number): unknown {
  switch (kindOf(value, type)) {
    case 'decimal':
      return decimalBoundary(numberText(value as number | FhirDecimal), side, precision);
    case 'date':
      return dateBoundary(value as string, side);
    case 'dateTime':
      return dateTimeBoundary(value as string, side);
    case 'time':
      return timeBoundary(value as string, side);
    default:
      return undefined;
  }
}

/** Exact, in scaled integers: a double would turn 1.05 into 1.0500000000000000444. */
function decimalBoundary(text: string, side: 'low' | 'high', precision?: number): FhirDecimal | undefined {
  if (/e/i.test(text)) return undefined;
  const negative = text.startsWith('-');
  const [whole = '0', fraction = ''] = text.replace(/^[-+]/, '').split('.');
  const places = fraction.length + 1;
  let unscaled = BigInt(whole + fraction) * 10n;
  // Half a unit of the last written digit, away from the value on each side.
  const half = 5n;
  if (negative) unscaled = -unscaled;
  unscaled += side === 'low' ? -half : half;
  let outPlaces = places;
  if (precision !== undefined && precision >= 0 && precision <= 28) {
    if (precision >= places) unscaled *= 10n ** BigInt(precision - places);
    else {
      const divisor = 10n ** BigInt(places - precision);
      const floor = unscaled / divisor - (unscaled % divisor < 0n ? 1n : 0n);
      unscaled = side === 'low' ? floor : floor + (unscaled % divisor === 0n ? 0n : 1n);
    }
    outPlaces = precision;
  }
  return new FhirDecimal(formatScaled(unscaled, outPlaces));
}

function formatScaled(unscaled: bigint, places: number): string {
  const sign = unscaled < 0n ? '-' : '';
  const digits = (unscaled < 0n ? -unscaled : unscaled).toString().padStart(places + 1, '0');
  return places === 0 ? sign + digits : `${sign}${digits.slice(0, -places)}.${digits.slice(-places)}`;
}

const daysInMonth = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();

function dateBoundary(value: string, side: 'low' | 'high'): string {
  const [year = '', month, day] = value.split('-');
  if (day) return value;
  if (side === 'low') return `${year}-${month ?? '01'}-01`;
  const m = month ?? '12';
  return `${year}-${m}-${String(daysInMonth(Number(year), Number(m))).padStart(2, '0')}`;
}

function timeBoundary(value: string, side: 'low' | 'high'): string {
  const [hh = '00', mm, ss] = value.split(':');
  const low = side === 'low';
  const minutes = mm ?? (low ? '00' : '59');
  let seconds: string;
  if (ss === undefined) seconds = low ? '00.000' : '59.999';
  else if (!ss.includes('.')) seconds = `${ss}.${low ? '000' : '999'}`;
  else {
    const [s, frac = ''] = ss.split('.');
    seconds = `${s}.${frac.padEnd(3, low ? '0' : '9').slice(0, Math.max(3, frac.length))}`;
  }
  return `${hh}:${minutes}:${seconds}`;
}

function dateTimeBoundary(value: string, side: 'low' | 'high'): string {
  const [date = '', rest] = value.split('T');
  const fullDate = dateBoundary(date, side);
  const low = side === 'low';
  if (rest === undefined) return `${fullDate}T${low ? '00:00:00.000+14:00' : '23:59:59.999-12:00'}`;
  const zone = /(Z|[+-]\d{2}:\d{2})$/.exec(rest)?.[0];
  const time = zone ? rest.slice(0, -zone.length) : rest;
  return `${fullDate}T${timeBoundary(time, side)}${zone ?? (low ? '+14:00' : '-12:00')}`;
}
