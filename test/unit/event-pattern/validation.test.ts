import { describe, expect, it } from 'vitest';
import { compileFilters, compilePattern, InvalidEventPatternError } from '../../../src/event-pattern/index.js';

function errorOf(pattern: unknown, dialect?: 'pipes'): InvalidEventPatternError {
  try {
    compilePattern(pattern as never, dialect === undefined ? {} : { dialect });
  } catch (error) {
    if (error instanceof InvalidEventPatternError) return error;
    throw error;
  }
  throw new Error('pattern was accepted');
}

describe('invalid patterns name the bad path', () => {
  it.each([
    [
      { dynamodb: { NewImage: { siteId: { S: [{ numeric: ['>', '5'] }] } } } },
      'dynamodb.NewImage.siteId.S[0]',
      'numeric needs',
    ],
    [{ a: [{ numeric: ['=', 1, '<', 5] }] }, 'a[0]', 'numeric needs'],
    [{ a: [{ numeric: ['>', 1, '>', 5] }] }, 'a[0]', 'numeric needs'],
    [{ a: [{ numeric: ['!=', 1] }] }, 'a[0]', 'numeric needs'],
    [{ a: [{ numeric: [] }] }, 'a[0]', 'numeric needs'],
    [{ a: [{ exists: 'yes' }] }, 'a[0]', 'exists needs true or false'],
    [{ a: [{ prefix: 5 }] }, 'a[0]', 'prefix needs'],
    [{ a: [{ prefix: { 'equals-ignore-case': 5 } }] }, 'a[0]', 'prefix equals-ignore-case needs a string'],
    [{ a: [{ suffix: [] }] }, 'a[0]', 'suffix needs'],
    [{ a: [{ 'anything-but': [] }] }, 'a[0]', 'anything-but needs a non-empty list'],
    [{ a: [{ 'anything-but': ['x', 1] }] }, 'a[0]', 'only strings or only numbers'],
    [{ a: [{ 'anything-but': { contains: 'x' } }] }, 'a[0]', 'anything-but needs'],
    [{ a: [{ 'anything-but': null }] }, 'a[0]', 'anything-but needs'],
    [{ a: [{ wildcard: 'a**b' }] }, 'a[0]', 'consecutive'],
    [{ a: [{ cidr: '10.0.0.0/33' }] }, 'a[0]', 'cidr needs'],
    [{ a: [{ bogus: 1 }] }, 'a[0]', 'unknown operator "bogus"'],
    [{ a: [{ prefix: 'x', suffix: 'y' }] }, 'a[0]', 'exactly one operator'],
    [{ a: [['x']] }, 'a[0]', 'nested arrays'],
    [{ a: [] }, 'a', 'must not be empty'],
    [{ a: 'x' }, 'a', 'must be a match list'],
    [{ a: 5 }, 'a', 'must be a match list'],
    [{ a: {} }, 'a', 'at least one field'],
    [{ $or: [{ a: ['x'] }] }, '$or', 'at least two'],
    [{ $or: [{ a: ['x'] }, { b: 'y' }] }, '$or[1].b', 'must be a match list'],
    [{}, '', 'at least one field'],
  ])('%j → %s', (pattern, path, reason) => {
    const error = errorOf(pattern);
    expect(error.path).toBe(path);
    expect(error.message).toContain(reason);
  });

  it('rejects non-objects and bad JSON text', () => {
    expect(errorOf([]).reason).toBe('must be a JSON object');
    expect(errorOf('not json').reason).toBe('is not valid JSON');
    expect(errorOf('"text"').reason).toBe('must be a JSON object');
  });

  it('message format is "<path>: <reason>"', () => {
    expect(errorOf({ dynamodb: { NewImage: { siteId: { S: [{ numeric: ['>'] }] } } } }).message).toMatch(
      /^dynamodb\.NewImage\.siteId\.S\[0\]: numeric needs /,
    );
  });
});

describe('pipes dialect', () => {
  it.each([
    [{ a: [{ 'anything-but': { prefix: 'x' } }] }],
    [{ a: [{ 'anything-but': { suffix: 'x' } }] }],
    [{ a: [{ 'anything-but': { 'equals-ignore-case': 'x' } }] }],
    [{ a: [{ 'anything-but': { wildcard: 'x*' } }] }],
    [{ a: [{ wildcard: 'x*' }] }],
  ])('rejects %j, which Pipes does not support', (pattern) => {
    expect(errorOf(pattern, 'pipes').reason).toContain('not supported by EventBridge Pipes');
    expect(() => compilePattern(pattern)).not.toThrow();
  });

  it('accepts the operators Pipes supports', () => {
    expect(() =>
      compilePattern(
        {
          a: [
            { prefix: { 'equals-ignore-case': 'x' } },
            { suffix: 'y' },
            { 'anything-but': ['z'] },
            { numeric: ['>', 1] },
            { exists: true },
          ],
        },
        { dialect: 'pipes' },
      ),
    ).not.toThrow();
  });

  it('rejects patterns longer than 4096 characters', () => {
    const long = { a: ['x'.repeat(5000)] };
    expect(() => compileFilters([long], { dialect: 'pipes' })).toThrow(/filter\[0\]: is longer than 4096/);
    expect(() => compileFilters([long])).not.toThrow();
  });
});
