import { describe, expect, it } from 'vitest';
import { evaluateChoiceRule, isTimestamp, stringMatches } from '../../../src/local/state-machine/choice-rule.js';

// Spec § "Choice State" (https://states-language.net/spec.html#choice-state)
const input = {
  type: 'Private',
  value: 22,
  flag: true,
  when: '2016-03-14T01:59:00Z',
  other: 22,
  nothing: null,
  name: 'log-1.txt',
};
const check = (rule: Record<string, unknown>): boolean => evaluateChoiceRule(rule, input, {});

describe('Choice rules', () => {
  it('evaluates the spec example (Not / And)', () => {
    expect(check({ Not: { Variable: '$.type', StringEquals: 'Private' } })).toBe(false);
    expect(
      check({
        And: [
          { Variable: '$.value', NumericGreaterThanEquals: 20 },
          { Variable: '$.value', NumericLessThan: 30 },
        ],
      }),
    ).toBe(true);
    expect(
      check({
        Or: [
          { Variable: '$.value', NumericEquals: 1 },
          { Variable: '$.flag', BooleanEquals: true },
        ],
      }),
    ).toBe(true);
  });

  it('compares strings, numbers, booleans and timestamps (and their Path variants)', () => {
    expect(check({ Variable: '$.type', StringLessThan: 'Q' })).toBe(true);
    expect(check({ Variable: '$.type', StringGreaterThanEquals: 'Private' })).toBe(true);
    expect(check({ Variable: '$.value', NumericEqualsPath: '$.other' })).toBe(true);
    expect(check({ Variable: '$.value', NumericLessThanEqualsPath: '$.other' })).toBe(true);
    expect(check({ Variable: '$.flag', BooleanEqualsPath: '$.flag' })).toBe(true);
    expect(check({ Variable: '$.when', TimestampGreaterThan: '2016-03-14T01:58:59Z' })).toBe(true);
    expect(check({ Variable: '$.when', TimestampEquals: '2016-03-14T02:59:00+01:00' })).toBe(true);
    expect(check({ Variable: '$.when', TimestampLessThanPath: '$.when' })).toBe(false);
    expect(check({ Variable: '$.type', StringEqualsPath: '$.type' })).toBe(true);
  });

  it('returns false on type mismatch instead of throwing', () => {
    expect(check({ Variable: '$.type', NumericEquals: 1 })).toBe(false);
    expect(check({ Variable: '$.value', StringEquals: '22' })).toBe(false);
  });

  it('type tests', () => {
    expect(check({ Variable: '$.missing', IsPresent: false })).toBe(true);
    expect(check({ Variable: '$.type', IsPresent: true })).toBe(true);
    expect(check({ Variable: '$.nothing', IsNull: true })).toBe(true);
    expect(check({ Variable: '$.value', IsNumeric: true })).toBe(true);
    expect(check({ Variable: '$.type', IsString: true })).toBe(true);
    expect(check({ Variable: '$.flag', IsBoolean: true })).toBe(true);
    expect(check({ Variable: '$.when', IsTimestamp: true })).toBe(true);
    expect(check({ Variable: '$.type', IsTimestamp: true })).toBe(false);
  });

  it('StringMatches with * and escapes (spec examples)', () => {
    expect(stringMatches('log-20190101.txt', 'log-*.txt')).toBe(true);
    expect(stringMatches('log-.txt', 'log-*.txt')).toBe(true);
    expect(stringMatches('log-20190101.csv', 'log-*.txt')).toBe(false);
    expect(stringMatches('a*b', 'a\\*b')).toBe(true);
    expect(stringMatches('axb', 'a\\*b')).toBe(false);
    expect(check({ Variable: '$.name', StringMatches: 'log-*' })).toBe(true);
  });

  it('a comparison on a missing variable is a States.Runtime error', () => {
    expect(() => check({ Variable: '$.missing', StringEquals: 'x' })).toThrow(/invalid value/);
  });

  it('recognises RFC 3339 timestamps only', () => {
    expect(isTimestamp('2016-03-14T01:59:00Z')).toBe(true);
    expect(isTimestamp('2016-03-14 01:59:00Z')).toBe(false);
    expect(isTimestamp('2016-03-14T01:59:00')).toBe(false);
  });
});
