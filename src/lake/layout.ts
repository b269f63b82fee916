/**
 * The lake layout: the contract that Glue tables, DuckDB views and tests rely on.
 *
 * ```
 * changes/<table>/<partitions>/<name>.ndjson.gz
 * fhir/<ResourceType>/year=YYYY/month=MM/day=DD/<name>.ndjson.gz
 * events/<detail-type>/year=YYYY/month=MM/day=DD/<name>.ndjson.gz
 * views/<view>/…
 * _errors/<pipeline>/year=YYYY/month=MM/day=DD/<name>.ndjson.gz
 * ```
 */

/** A Hive partition: column name and raw (unsanitised) value. */
export type Partition = readonly [name: string, value: string];

/** Values that are already safe: no leading dot, only `[A-Za-z0-9_.-]`. Others are percent-encoded. */
const SAFE = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/;

/**
 * Makes a value safe as one path segment: it can never contain `/`, be `.`/`..`, or be empty.
 * Reversible with `decodeURIComponent`, except for the empty string, written `__empty__` (as a value `__empty__` is).
 *
 * @example
 * sanitiseSegment('../etc') // '%2E%2E%2Fetc'
 * sanitiseSegment('site-2') // 'site-2'
 */
export function sanitiseSegment(value: string): string {
  if (value === '') return '__empty__';
  if (SAFE.test(value)) return value;
  let out = '';
  for (const char of value) {
    if (/[A-Za-z0-9_-]/.test(char)) out += char;
    else out += Buffer.from(char, 'utf8').reduce((s, b) => `${s}%${b.toString(16).toUpperCase().padStart(2, '0')}`, '');
  }
  return out;
}

/**
 * Builds `k=v/k=v/` from partitions, sanitising names and values.
 *
 * @example
 * hivePath([['siteId', '2'], ['year', '2024']]) // 'siteId=2/year=2024/'
 */
export function hivePath(partitions: readonly Partition[]): string {
  return partitions.map(([name, value]) => `${sanitiseSegment(name)}=${sanitiseSegment(value)}/`).join('');
}

/** Zero-padded UTC date parts of an instant. */
export function timeParts(date: Date): { year: string; month: string; day: string; hour: string; minute: string } {
  const pad = (n: number) => String(n).padStart(2, '0');
  return {
    year: String(date.getUTCFullYear()).padStart(4, '0'),
    month: pad(date.getUTCMonth() + 1),
    day: pad(date.getUTCDate()),
    hour: pad(date.getUTCHours()),
    minute: pad(date.getUTCMinutes()),
  };
}

/** `year=YYYY/month=MM/day=DD/` for an instant. */
export function datePartitions(date: Date): Partition[] {
  const t = timeParts(date);
  return [
    ['year', t.year],
    ['month', t.month],
    ['day', t.day],
  ];
}

export const lakeLayout = {
  /** Prefix of a DynamoDB table's change records. */
  changes: (table: string) => `changes/${sanitiseSegment(table)}/`,
  /** Prefix of a FHIR resource type's exported resources. */
  fhir: (resourceType: string) => `fhir/${sanitiseSegment(resourceType)}/`,
  /** Prefix of published events of one detail-type. */
  events: (detailType: string) => `events/${sanitiseSegment(detailType)}/`,
  /** Prefix of a flattened view's files. */
  views: (view: string) => `views/${sanitiseSegment(view)}/`,
  /** Prefix of a pipeline's rejected records. */
  errors: (pipeline: string) => `_errors/${sanitiseSegment(pipeline)}/`,
} as const;
