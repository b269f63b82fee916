import { describe, expect, it } from 'vitest';
import { parsePath, queryAll, resolvePath, setAtReferencePath } from '../../../src/local/state-machine/json-path.js';

// Spec § "Paths" / "Reference Paths" (https://states-language.net/spec.html#path)
const store = {
  foo: 123,
  bar: ['a', 'b', 'c'],
  car: { cdr: true },
  items: [
    { id: 1, kind: 'x', price: 5 },
    { id: 2, kind: 'y', price: 15 },
  ],
};

describe('JSONPath', () => {
  it('resolves the spec Reference Path examples', () => {
    expect(resolvePath(store, '$.foo', {})).toEqual({ found: true, value: 123 });
    expect(resolvePath(store, '$.bar', {})).toEqual({ found: true, value: ['a', 'b', 'c'] });
    expect(resolvePath(store, '$.car.cdr', {})).toEqual({ found: true, value: true });
    expect(resolvePath(store, "$['car']['cdr']", {})).toEqual({ found: true, value: true });
    expect(resolvePath(store, '$.bar[1]', {})).toEqual({ found: true, value: 'b' });
    expect(resolvePath(store, '$', {})).toEqual({ found: true, value: store });
  });

  it('reports missing reference paths as not found', () => {
    expect(resolvePath(store, '$.nope', {})).toEqual({ found: false });
    expect(resolvePath(store, '$.bar[7]', {})).toEqual({ found: false });
  });

  it('returns arrays for non-definite paths (wildcards, filters, slices, descendants)', () => {
    expect(resolvePath(store, '$.items[*].id', {})).toEqual({ found: true, value: [1, 2] });
    expect(queryAll(store, '$.items[?(@.price > 10)].id')).toEqual([2]);
    expect(queryAll(store, "$.items[?(@.kind == 'x')].id")).toEqual([1]);
    expect(queryAll(store, '$.bar[0:2]')).toEqual(['a', 'b']);
    expect(queryAll(store, '$.bar[-1:]')).toEqual(['c']);
    expect(queryAll(store, '$..id')).toEqual([1, 2]);
    expect(queryAll(store, '$.bar[0,2]')).toEqual(['a', 'c']);
    expect(queryAll(store, '$.car.*')).toEqual([true]);
  });

  it('reads the context object with $$', () => {
    expect(resolvePath({}, '$$.Execution.Id', { Execution: { Id: 'arn:x' } })).toEqual({ found: true, value: 'arn:x' });
    expect(parsePath('$$.Map.Item.Value').context).toBe(true);
  });

  it('classifies Reference Paths', () => {
    expect(parsePath('$.a.b[0]').isReference).toBe(true);
    expect(parsePath('$.a[*]').isReference).toBe(false);
    expect(() => parsePath('a.b')).toThrow(/must start with/);
    expect(() => parsePath('$.a[')).toThrow(/unclosed/);
  });

  it('writes ResultPath values, creating intermediate objects, without mutating input', () => {
    const input = { master: { detail: [1, 2, 3] } };
    // Spec § ResultPath example: "ResultPath": "$.master.detail" replaces that field.
    expect(setAtReferencePath(input, '$.master.detail', 'x')).toEqual({ ok: true, value: { master: { detail: 'x' } } });
    expect(input.master.detail).toEqual([1, 2, 3]);
    expect(setAtReferencePath({ a: 1 }, '$.b.c', 2)).toEqual({ ok: true, value: { a: 1, b: { c: 2 } } });
    expect(setAtReferencePath('scalar', '$.b', 2)).toEqual({ ok: false });
    expect(setAtReferencePath({ a: 1 }, '$.a[*]', 2)).toEqual({ ok: false });
  });
});
