/** A half-open UTC interval `[start, end)` as ISO-8601 strings with milliseconds (sortable as text). */
export interface DateRange {
  start: string;
  end: string;
}

const DATE_PATTERN =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/**
 * The interval a FHIR date, dateTime or instant stands for, by its precision:
 * `1991` is all of 1991, `1991-07-13` the whole day, an instant one millisecond.
 * Values without a zone are read as UTC. Returns `undefined` when the text is not a FHIR date.
 *
 * @example
 * fhirDateRange('1991-07') // { start: '1991-07-01T00:00:00.000Z', end: '1991-08-01T00:00:00.000Z' }
 */
export function fhirDateRange(value: string): DateRange | undefined {
  const match = DATE_PATTERN.exec(value);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = match;
  const year = Number(y);
  const month = mo === undefined ? undefined : Number(mo) - 1;
  const day = d === undefined ? undefined : Number(d);
  if (month !== undefined && (month < 0 || month > 11)) return undefined;
  if (day !== undefined && (day < 1 || day > 31)) return undefined;
  if (h === undefined) {
    const start = Date.UTC(year, month ?? 0, day ?? 1);
    const end =
      day !== undefined
        ? start + 86_400_000
        : month !== undefined
          ? Date.UTC(year, month + 1, 1)
          : Date.UTC(year + 1, 0, 1);
    return toRange(start, end);
  }
  const offsetMs = zoneOffsetMs(zone);
  const millis = frac === undefined ? 0 : Number(frac.padEnd(3, '0').slice(0, 3));
  const start = Date.UTC(year, month ?? 0, day ?? 1, Number(h), Number(mi), Number(s ?? 0), millis) - offsetMs;
  const width = s === undefined ? 60_000 : frac === undefined ? 1_000 : 1;
  return toRange(start, start + width);
}

function zoneOffsetMs(zone: string | undefined): number {
  if (!zone || zone === 'Z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const [hours, minutes] = zone.slice(1).split(':').map(Number);
  return sign * ((hours ?? 0) * 60 + (minutes ?? 0)) * 60_000;
}

function toRange(start: number, end: number): DateRange | undefined {
  if (!Number.isFinite(start) || !Number.isFinite(end)) return undefined;
  return { start: new Date(start).toISOString(), end: new Date(end).toISOString() };
}
