import { PatientValidationError } from './errors.js';

const DOMAIN_DATE = /^(\d{1,2})-(\d{1,2})-(\d{4})$/;

/** Options of {@link toFhirBirthDate}. */
export interface BirthDateOptions {
  /** Latest acceptable date (inclusive), as `YYYY-MM-DD`. Omit to allow any date. */
  notAfter?: string;
}

const isLeapYear = (year: number) => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * Converts a domain birth date `MM-DD-YYYY` (single-digit month/day and surrounding whitespace
 * accepted) to a FHIR `date` `YYYY-MM-DD`, rejecting dates that do not exist on the calendar
 * (`02-30`, `13-01`, `02-29` in a non-leap year, year `0000`). Errors name the field, never the value.
 *
 * @example
 * toFhirBirthDate('07-13-1991') // '1991-07-13'
 * toFhirBirthDate('2-29-2024')  // '2024-02-29'
 * toFhirBirthDate('02-29-2023') // throws PatientValidationError (birthDate)
 */
export function toFhirBirthDate(value: string, options: BirthDateOptions = {}): string {
  const reject = (problem: string): never => {
    throw new PatientValidationError([{ field: 'birthDate', problem }]);
  };
  const match = DOMAIN_DATE.exec(value.trim());
  if (!match) return reject('expected MM-DD-YYYY');
  const [, mm = '', dd = '', yyyy = ''] = match;
  const month = Number(mm);
  const day = Number(dd);
  const year = Number(yyyy);
  if (year < 1) return reject('year out of range');
  if (month < 1 || month > 12) return reject('month out of range');
  if (day < 1 || day > daysInMonth(year, month)) return reject('day out of range for month');
  const iso = `${yyyy}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
  // ISO dates of the same width compare correctly as strings.
  if (options.notAfter !== undefined && iso > options.notAfter) return reject('date is in the future');
  return iso;
}
