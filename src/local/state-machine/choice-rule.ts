/**
 * Choice rule evaluation (spec § "Choice State"): comparison operators, their `…Path` variants, type tests,
 * `StringMatches` and the boolean combinators `And` / `Or` / `Not`.
 */
import { StatesRuntimeError } from './errors.js';
import { resolvePath } from './json-path.js';

type Rule = Record<string, unknown>;

/** Comparison operators and the value type each compares. */
export const COMPARATORS: Record<string, 'string' | 'number' | 'boolean' | 'timestamp'> = {
  StringEquals: 'string',
  StringLessThan: 'string',
  StringGreaterThan: 'string',
  StringLessThanEquals: 'string',
  StringGreaterThanEquals: 'string',
  NumericEquals: 'number',
  NumericLessThan: 'number',
  NumericGreaterThan: 'number',
  NumericLessThanEquals: 'number',
  NumericGreaterThanEquals: 'number',
  BooleanEquals: 'boolean',
  TimestampEquals: 'timestamp',
  TimestampLessThan: 'timestamp',
  TimestampGreaterThan: 'timestamp',
  TimestampLessThanEquals: 'timestamp',
  TimestampGreaterThanEquals: 'timestamp',
};

/** Type-test operators; their value must be a boolean. */
export const TYPE_TESTS = ['IsNull', 'IsPresent', 'IsNumeric', 'IsString', 'IsBoolean', 'IsTimestamp'] as const;

/** Every operator a rule may use (besides And/Or/Not). */
export const CHOICE_OPERATORS: readonly string[] = [
  ...Object.keys(COMPARATORS),
  ...Object.keys(COMPARATORS).map((k) => `${k}Path`),
  ...TYPE_TESTS,
  'StringMatches',
];

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * True for an RFC 3339 timestamp with uppercase `T` and `Z` or numeric offset (spec § "Timestamps").
 *
 * @example
 * isTimestamp('2016-03-14T01:59:00Z'); // true
 */
export function isTimestamp(value: unknown): value is string {
  return typeof value === 'string' && TIMESTAMP.test(value) && !Number.isNaN(Date.parse(value));
}

function ordered(cmp: number, op: string): boolean {
  if (op.endsWith('GreaterThanEquals')) return cmp >= 0;
  if (op.endsWith('LessThanEquals')) return cmp <= 0;
  if (op.endsWith('GreaterThan')) return cmp > 0;
  if (op.endsWith('LessThan')) return cmp < 0;
  return cmp === 0;
}

/**
 * Glob match with `*` wildcards; `\*` and `\\` are escapes (spec § "StringMatches").
 *
 * @example
 * stringMatches('log-20190101.txt', 'log-*.txt'); // true
 */
export function stringMatches(value: string, pattern: string): boolean {
  let regex = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    if (ch === '\\' && i + 1 < pattern.length) {
      regex += (pattern[i + 1] as string).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      i++;
    } else if (ch === '*') regex += '[\\s\\S]*';
    else regex += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${regex}$`).test(value);
}

function compareTyped(kind: string, op: string, actual: unknown, expected: unknown): boolean {
  switch (kind) {
    case 'string':
      if (typeof actual !== 'string' || typeof expected !== 'string') return false;
      return ordered(actual < expected ? -1 : actual > expected ? 1 : 0, op);
    case 'number':
      if (typeof actual !== 'number' || typeof expected !== 'number') return false;
      return ordered(actual - expected, op);
    case 'boolean':
      return typeof actual === 'boolean' && typeof expected === 'boolean' && actual === expected;
    default:
      if (!isTimestamp(actual) || !isTimestamp(expected)) return false;
      return ordered(Date.parse(actual) - Date.parse(expected), op);
  }
}

/**
 * Evaluates one Choice rule (top-level or nested) against the state input.
 * A comparison on a Variable that does not exist raises `States.Runtime` (AWS behaviour); `IsPresent` does not.
 *
 * @example
 * evaluateChoiceRule({ Variable: '$.n', NumericGreaterThan: 1 }, { n: 2 }, {}); // true
 */
export function evaluateChoiceRule(rule: Rule, input: unknown, context: unknown): boolean {
  if (Array.isArray(rule.And)) return (rule.And as Rule[]).every((r) => evaluateChoiceRule(r, input, context));
  if (Array.isArray(rule.Or)) return (rule.Or as Rule[]).some((r) => evaluateChoiceRule(r, input, context));
  if (rule.Not !== undefined) return !evaluateChoiceRule(rule.Not as Rule, input, context);
  const variablePath = rule.Variable as string;
  const variable = resolvePath(input, variablePath, context);
  if (rule.IsPresent !== undefined) return variable.found === rule.IsPresent;
  for (const test of TYPE_TESTS) {
    if (rule[test] === undefined) continue;
    if (!variable.found)
      throw new StatesRuntimeError(
        'States.Runtime',
        `Invalid path '${variablePath}': the choice state's condition path references an invalid value`,
      );
    const v = variable.value;
    const is =
      test === 'IsNull'
        ? v === null
        : test === 'IsNumeric'
          ? typeof v === 'number'
          : test === 'IsString'
            ? typeof v === 'string'
            : test === 'IsBoolean'
              ? typeof v === 'boolean'
              : isTimestamp(v);
    return is === rule[test];
  }
  if (!variable.found)
    throw new StatesRuntimeError(
      'States.Runtime',
      `Invalid path '${variablePath}': the choice state's condition path references an invalid value`,
    );
  if (rule.StringMatches !== undefined) {
    return typeof variable.value === 'string' && stringMatches(variable.value, rule.StringMatches as string);
  }
  for (const [op, kind] of Object.entries(COMPARATORS)) {
    if (rule[op] !== undefined) return compareTyped(kind, op, variable.value, rule[op]);
    const pathValue = rule[`${op}Path`];
    if (pathValue !== undefined) {
      const other = resolvePath(input, pathValue as string, context);
      if (!other.found)
        throw new StatesRuntimeError('States.Runtime', `Invalid path '${String(pathValue)}' in ${op}Path`);
      return compareTyped(kind, op, variable.value, other.value);
    }
  }
  throw new StatesRuntimeError('States.Runtime', 'Choice rule has no comparison operator');
}
