import type { Database, Statement } from 'better-sqlite3';
import { fhirDateRange, type DateRange } from './date-range.js';
import { InvalidRequestError, NotSupportedError } from './errors.js';
import { FHIR_ID_PATTERN, isR4ResourceType } from './r4-definitions.js';
import {
  IMPLIED_REFERENCE_TYPE,
  normaliseReference,
  normaliseSearchString,
  searchParametersOf,
} from './search-parameters.js';
import { toStoredVersion, type VersionRow } from './stored-version.js';
import type { StoredVersion } from './types.js';

/** Default and largest page size. */
export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

/** Parameters that control the result page rather than filter it. */
const RESULT_PARAMETERS = new Set(['_count', '_offset', '_format', '_summary', '_total']);

/** `_summary` values (FHIR R4 §3.1.1.5.8); `false` is the same as absent. */
export type SummaryMode = 'true' | 'text' | 'data' | 'count' | 'false';
const SUMMARY_MODES: readonly string[] = ['true', 'text', 'data', 'count', 'false'];
const TOTAL_MODES: readonly string[] = ['none', 'estimate', 'accurate'];

/** A page of search results. */
export interface SearchPage {
  /** Number of matches; absent under `_total=none` (the count query is skipped). */
  total?: number;
  count: number;
  offset: number;
  /** True when matches follow this page (drives the `next` link). */
  hasMore: boolean;
  versions: StoredVersion[];
  /** Parameters ignored under `Prefer: handling=lenient`. */
  ignored: string[];
  summary?: SummaryMode;
}

interface Condition {
  sql: string;
  args: unknown[];
}

/**
 * Runs a FHIR search over the current, non-deleted resources of `type`.
 * Supported: `_id`, `_lastUpdated`, `_count`, `_offset` (paging) and the parameters
 * {@link searchParametersOf} lists for the type. Anything else is a 400, or ignored when lenient.
 *
 * @example
 * searchResources(db, 'Patient', new URLSearchParams('family=smi&birthdate=ge1990'));
 */
export function searchResources(
  db: Database,
  type: string,
  query: URLSearchParams,
  options: { lenient?: boolean } = {},
): SearchPage {
  if (!isR4ResourceType(type)) throw new InvalidRequestError(`${type.slice(0, 64)} is not an R4 resource type`);
  const conditions: Condition[] = [];
  const ignored: string[] = [];
  const params = new Map(searchParametersOf(type).map((param) => [param.code, param]));
  for (const [key, raw] of query) {
    if (RESULT_PARAMETERS.has(key)) continue;
    const [code = '', modifier] = key.split(':', 2);
    const values = raw.split(',').map((value) => value.trim());
    if (values.some((value) => value.length === 0))
      throw new InvalidRequestError(`search parameter ${key} has an empty value`);
    let condition: Condition | undefined;
    if (code === '_id' && modifier === undefined) condition = idCondition(values);
    else if (code === '_lastUpdated' && modifier === undefined)
      condition = orConditions(values.map((value) => lastUpdatedCondition(value)));
    else {
      const param = params.get(code);
      if (param?.kind === 'string' && (modifier === undefined || modifier === 'exact' || modifier === 'contains')) {
        condition = indexCondition(
          type,
          'search_string',
          code,
          values.map((value) => stringCondition(value, modifier)),
        );
      } else if (param?.kind === 'token' && modifier === undefined) {
        condition = indexCondition(type, 'search_token', code, values.map(tokenCondition));
      } else if (param?.kind === 'date' && modifier === undefined) {
        condition = indexCondition(
          type,
          'search_date',
          code,
          values.map((value) => dateCondition(key, value)),
        );
      } else if (param?.kind === 'reference' && (modifier === undefined || isR4ResourceType(modifier))) {
        condition = indexCondition(
          type,
          'search_reference',
          code,
          values.map((value) => referenceCondition(code, modifier, value)),
        );
      }
    }
    if (condition) conditions.push(condition);
    else if (options.lenient) ignored.push(key);
    else
      throw new NotSupportedError(
        `search parameter ${key.slice(0, 64)} is not supported for ${type} (see the CapabilityStatement)`,
      );
  }
  const summary = oneOf(query, '_summary', SUMMARY_MODES) as SummaryMode | undefined;
  // `_summary=count` asks for the total only, whatever `_total` says.
  const withTotal = summary === 'count' || oneOf(query, '_total', TOTAL_MODES) !== 'none';
  const count = summary === 'count' ? 0 : pageNumber(query.get('_count'), '_count', DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
  const offset = pageNumber(query.get('_offset'), '_offset', 0, Number.MAX_SAFE_INTEGER);
  const where = ['c.type = ?', 'c.deleted = 0', ...conditions.map((condition) => `(${condition.sql})`)].join(' AND ');
  const args = [type, ...conditions.flatMap((condition) => condition.args)];
  const total = withTotal
    ? (prepared(db, `SELECT COUNT(*) AS n FROM current_versions c WHERE ${where}`).get(...args) as { n: number }).n
    : undefined;
  // Without a total, one extra row tells whether a next page exists.
  const limit = count + (withTotal ? 0 : 1);
  const rows =
    count === 0 || total === 0
      ? []
      : (prepared(
          db,
          `SELECT r.* FROM current_versions c JOIN resources r ON r.tx_seq = c.tx_seq WHERE ${where} ORDER BY c.tx_seq LIMIT ? OFFSET ?`,
        ).all(...args, limit, offset) as VersionRow[]);
  const hasMore = total === undefined ? rows.length > count : count > 0 && offset + count < total;
  return {
    ...(total === undefined ? {} : { total }),
    count,
    offset,
    hasMore,
    versions: rows.slice(0, count).map(toStoredVersion),
    ignored,
    ...(summary && summary !== 'false' ? { summary } : {}),
  };
}

/** The single value of a result parameter that takes one of `allowed`, 400 otherwise. */
function oneOf(query: URLSearchParams, name: string, allowed: readonly string[]): string | undefined {
  const values = query.getAll(name);
  if (values.length === 0) return undefined;
  const value = values[0] ?? '';
  if (values.length > 1 || !allowed.includes(value))
    throw new InvalidRequestError(`${name} must be one of ${allowed.join(', ')}`);
  return value;
}

const statementCache = new WeakMap<Database, Map<string, Statement>>();

/** Prepared statements by SQL text, per connection (searches repeat the same shapes, e.g. in transactions). */
function prepared(db: Database, sql: string): Statement {
  let cache = statementCache.get(db);
  if (!cache) statementCache.set(db, (cache = new Map()));
  let statement = cache.get(sql);
  if (!statement) {
    if (cache.size >= 500) cache.clear();
    statement = db.prepare(sql);
    cache.set(sql, statement);
  }
  return statement;
}

function pageNumber(value: string | null, name: string, fallback: number, max: number): number {
  if (value === null) return fallback;
  if (!/^\d{1,15}$/.test(value)) throw new InvalidRequestError(`${name} must be a non-negative integer`);
  return Math.min(Number(value), max);
}

function idCondition(values: string[]): Condition {
  for (const value of values)
    if (!FHIR_ID_PATTERN.test(value)) throw new InvalidRequestError('_id value does not match [A-Za-z0-9-.]{1,64}');
  return { sql: `c.id IN (${values.map(() => '?').join(', ')})`, args: values };
}

function orConditions(conditions: Condition[]): Condition {
  return {
    sql: conditions.map((condition) => `(${condition.sql})`).join(' OR '),
    args: conditions.flatMap((condition) => condition.args),
  };
}

/** Matches through an index table; uncorrelated, so SQLite can drive the query from the index rows. */
function indexCondition(type: string, table: string, code: string, alternatives: Condition[]): Condition {
  const either = orConditions(alternatives);
  return {
    sql: `c.id IN (SELECT s.id FROM ${table} s WHERE s.type = ? AND s.param = ? AND (${either.sql}))`,
    args: [type, code, ...either.args],
  };
}

/** Splits `ge2020-01-01` into prefix and date range. */
function prefixedRange(name: string, value: string): { prefix: string; range: DateRange } {
  const match = /^(eq|ne|gt|ge|lt|le|sa|eb|ap)?(.+)$/.exec(value);
  const prefix = match?.[1] ?? 'eq';
  if (['sa', 'eb', 'ap'].includes(prefix))
    throw new NotSupportedError(`date prefix ${prefix} is not supported (use eq, ne, gt, ge, lt, le)`);
  const range = fhirDateRange(match?.[2] ?? '');
  if (!range) throw new InvalidRequestError(`${name} value is not a FHIR date: ${JSON.stringify(value.slice(0, 40))}`);
  return { prefix, range };
}

/** `_lastUpdated`: the target is an instant, i.e. the one-millisecond range starting at `c.last_updated`. */
function lastUpdatedCondition(value: string): Condition {
  const { prefix, range } = prefixedRange('_lastUpdated', value);
  switch (prefix) {
    case 'gt':
      return { sql: 'c.last_updated >= ?', args: [range.end] };
    case 'ge':
      return { sql: 'c.last_updated >= ?', args: [range.start] };
    case 'lt':
      return { sql: 'c.last_updated < ?', args: [range.start] };
    case 'le':
      return { sql: 'c.last_updated < ?', args: [range.end] };
    case 'ne':
      return { sql: 'NOT (c.last_updated >= ? AND c.last_updated < ?)', args: [range.start, range.end] };
    default:
      return { sql: 'c.last_updated >= ? AND c.last_updated < ?', args: [range.start, range.end] };
  }
}

/** Date parameters: ranges compared as the FHIR search spec describes (target `[s.start, s.end)`). */
function dateCondition(name: string, value: string): Condition {
  const { prefix, range } = prefixedRange(name, value);
  const within = { sql: 's.start >= ? AND s.end <= ?', args: [range.start, range.end] };
  switch (prefix) {
    case 'gt':
      return { sql: 's.end > ?', args: [range.end] };
    case 'ge':
      return { sql: `s.end > ? OR (${within.sql})`, args: [range.end, ...within.args] };
    case 'lt':
      return { sql: 's.start < ?', args: [range.start] };
    case 'le':
      return { sql: `s.start < ? OR (${within.sql})`, args: [range.start, ...within.args] };
    case 'ne':
      return { sql: `NOT (${within.sql})`, args: within.args };
    default:
      return within;
  }
}

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (char) => `\\${char}`);
}

function stringCondition(value: string, modifier: string | undefined): Condition {
  if (modifier === 'exact') return { sql: 's.exact = ?', args: [value] };
  const pattern = escapeLike(normaliseSearchString(value));
  return { sql: "s.normalised LIKE ? ESCAPE '\\'", args: [modifier === 'contains' ? `%${pattern}%` : `${pattern}%`] };
}

function tokenCondition(value: string): Condition {
  const bar = value.indexOf('|');
  if (bar < 0) return { sql: 's.value = ?', args: [value] };
  const system = value.slice(0, bar);
  const code = value.slice(bar + 1);
  if (system === '') return { sql: 's.system IS NULL AND s.value = ?', args: [code] };
  if (code === '') return { sql: 's.system = ?', args: [system] };
  return { sql: 's.system = ? AND s.value = ?', args: [system, code] };
}

function referenceCondition(code: string, typeModifier: string | undefined, value: string): Condition {
  if (value.includes('/')) return { sql: 's.target = ?', args: [normaliseReference(value)] };
  const impliedType = typeModifier ?? IMPLIED_REFERENCE_TYPE[code];
  if (impliedType) return { sql: 's.target = ?', args: [`${impliedType}/${value}`] };
  return { sql: "s.target LIKE ? ESCAPE '\\'", args: [`%/${escapeLike(value)}`] };
}
