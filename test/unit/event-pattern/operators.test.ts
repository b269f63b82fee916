import { describe, expect, it } from 'vitest';
import { compileFilters, compilePattern, matches, toFilterCriteria } from '../../../src/event-pattern/index.js';
import type { EventPattern } from '../../../src/event-pattern/index.js';

const test = (pattern: EventPattern, event: unknown) => matches(compilePattern(pattern), event);

describe('exact values', () => {
  it('distinguishes types: "1" is not 1, true is not "true"', () => {
    expect(test({ a: [1] }, { a: 1 })).toBe(true);
    expect(test({ a: [1] }, { a: '1' })).toBe(false);
    expect(test({ a: ['1'] }, { a: 1 })).toBe(false);
    expect(test({ a: [true] }, { a: true })).toBe(true);
    expect(test({ a: [true] }, { a: 'true' })).toBe(false);
    expect(test({ a: [false] }, { a: false })).toBe(true);
  });

  it('compares numbers by value (300 equals 3e2)', () => {
    expect(test({ a: [3e2] }, { a: 300 })).toBe(true);
  });

  it('is case sensitive', () => {
    expect(test({ a: ['Alice'] }, { a: 'alice' })).toBe(false);
  });

  it('a missing field does not match a value', () => {
    expect(test({ a: ['x'] }, { b: 'x' })).toBe(false);
    expect(test({ a: { b: ['x'] } }, { a: 'x' })).toBe(false);
  });
});

describe('event arrays', () => {
  it('arrays of objects match when one element matches all nested conditions', () => {
    const pattern = { items: { kind: ['a'], size: [1] } };
    expect(
      test(pattern, {
        items: [
          { kind: 'a', size: 2 },
          { kind: 'a', size: 1 },
        ],
      }),
    ).toBe(true);
    // kind and size are satisfied only by different elements
    expect(
      test(pattern, {
        items: [
          { kind: 'a', size: 2 },
          { kind: 'b', size: 1 },
        ],
      }),
    ).toBe(false);
  });

  it('exists: false below an array needs the field absent from every element (EventBridge: the event has it)', () => {
    const pattern = { a: { b: [{ exists: false }] } };
    expect(test(pattern, { a: [{ b: 1 }, { c: 2 }] })).toBe(false);
    expect(test(pattern, { a: [{ c: 1 }, { d: 2 }] })).toBe(true);
    expect(test(pattern, { a: [] })).toBe(true);
    // In DynamoDB JSON: a list whose elements are not all strings.
    const list = { dynamodb: { NewImage: { tags: { L: { S: [{ exists: false }] } } } } };
    expect(test(list, { dynamodb: { NewImage: { tags: { L: [{ S: 'x' }, { N: '1' }] } } } })).toBe(false);
    expect(test(list, { dynamodb: { NewImage: { tags: { L: [{ N: '1' }] } } } })).toBe(true);
    // With a condition that needs a value, the element that matches must satisfy both (array-consistent).
    const mixed = { a: { b: [{ exists: false }], c: [2] } };
    expect(test(mixed, { a: [{ b: 1 }, { c: 2 }] })).toBe(true);
    expect(test(mixed, { a: [{ b: 1, c: 2 }] })).toBe(false);
  });

  it('objects inside nested arrays are reached (arrays are crushed at every level)', () => {
    expect(test({ e: { n: ['Anna'] } }, { e: [[{ n: 'Anna' }], [{ n: 'Bo' }]] })).toBe(true);
    expect(test({ e: { n: ['Cy'] } }, { e: [[{ n: 'Anna' }], [{ n: 'Bo' }]] })).toBe(false);
    expect(test({ e: { n: [{ exists: false }] } }, { e: [[{ n: 'Anna' }]] })).toBe(false);
  });

  it('an empty array counts as absent', () => {
    expect(test({ tags: [{ exists: false }] }, { tags: [] })).toBe(true);
    expect(test({ tags: [{ exists: true }] }, { tags: [] })).toBe(false);
    expect(test({ tags: [{ exists: true }] }, { tags: ['x'] })).toBe(true);
  });

  it('anything-but matches an array when some element is not excluded', () => {
    expect(test({ tags: [{ 'anything-but': 'a' }] }, { tags: ['a', 'b'] })).toBe(true);
    expect(test({ tags: [{ 'anything-but': 'a' }] }, { tags: ['a'] })).toBe(false);
  });
});

describe('operators on values of the wrong type', () => {
  it('prefix, suffix, equals-ignore-case, wildcard only match strings', () => {
    expect(test({ a: [{ prefix: '1' }] }, { a: 12 })).toBe(false);
    expect(test({ a: [{ suffix: '2' }] }, { a: 12 })).toBe(false);
    expect(test({ a: [{ 'equals-ignore-case': 'true' }] }, { a: true })).toBe(false);
    expect(test({ a: [{ wildcard: '*' }] }, { a: 1 })).toBe(false);
  });

  it('numeric only matches numbers', () => {
    expect(test({ a: [{ numeric: ['>', 0] }] }, { a: '5' })).toBe(false);
    expect(test({ a: [{ numeric: ['>', 0] }] }, { a: 5 })).toBe(true);
  });

  it('exists true matches null (a present value)', () => {
    expect(test({ a: [{ exists: true }] }, { a: null })).toBe(true);
  });
});

describe('numeric', () => {
  it.each([
    [['=', 5], 5, true],
    [['=', 5], 5.0001, false],
    [['>', 5], 5, false],
    [['>=', 5], 5, true],
    [['<', 5], 5, false],
    [['<=', 5], 5, true],
    [['>', 0, '<', 1], 0.5, true],
    [['>', 0, '<', 1], 1, false],
    [['<=', 10, '>=', 10], 10, true],
    [['>', -1e9], -5, true],
  ])('%j against %d → %s', (spec, value, expected) => {
    expect(test({ a: [{ numeric: spec }] }, { a: value })).toBe(expected);
  });

  it('a range nothing can satisfy is valid and never matches', () => {
    const compiled = compilePattern({ a: [{ numeric: ['>', 5, '<', 1] }] });
    expect(matches(compiled, { a: 3 })).toBe(false);
    expect(matches(compiled, { a: 6 })).toBe(false);
  });
});

describe('wildcard', () => {
  it('* matches any run, including none; escapes are literal', () => {
    expect(test({ a: [{ wildcard: 'a*c' }] }, { a: 'ac' })).toBe(true);
    expect(test({ a: [{ wildcard: 'a*c' }] }, { a: 'a/b/c' })).toBe(true);
    expect(test({ a: [{ wildcard: 'a*c' }] }, { a: 'acd' })).toBe(false);
    expect(test({ a: [{ wildcard: 'a\\*c' }] }, { a: 'a*c' })).toBe(true);
    expect(test({ a: [{ wildcard: 'a\\*c' }] }, { a: 'abc' })).toBe(false);
    expect(test({ a: [{ wildcard: 'a.c' }] }, { a: 'abc' })).toBe(false);
  });
});

describe('$or', () => {
  it('works at nested levels', () => {
    const pattern = { dynamodb: { NewImage: { $or: [{ siteId: { S: ['1'] } }, { siteId: { S: ['2'] } }] } } };
    expect(test(pattern, { dynamodb: { NewImage: { siteId: { S: '2' } } } })).toBe(true);
    expect(test(pattern, { dynamodb: { NewImage: { siteId: { S: '3' } } } })).toBe(false);
  });
});

describe('compileFilters', () => {
  it('empty list lets everything through', () => {
    expect(compileFilters([]).test({ anything: 1 })).toBe(true);
  });

  it('matches if any pattern matches', () => {
    const filters = compileFilters([{ eventName: ['INSERT'] }, { eventName: ['REMOVE'] }]);
    expect(filters.test({ eventName: 'REMOVE' })).toBe(true);
    expect(filters.test({ eventName: 'MODIFY' })).toBe(false);
  });

  it('accepts pattern JSON text, as in FilterCriteria, and round-trips to it', () => {
    const filters = compileFilters(['{"eventName":["INSERT","MODIFY"]}']);
    expect(filters.test({ eventName: 'INSERT' })).toBe(true);
    expect(toFilterCriteria(filters)).toEqual({ filters: [{ pattern: '{"eventName":["INSERT","MODIFY"]}' }] });
  });

  it('prefixes errors with the filter index', () => {
    expect(() => compileFilters([{ a: ['x'] }, { a: 'x' }])).toThrow('filter[1].a: must be a match list');
  });
});
