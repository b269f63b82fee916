import { describe, expect, it } from 'vitest';
import { StatesRuntimeError } from '../../../src/local/state-machine/errors.js';
import { evaluateIntrinsic, parseIntrinsic } from '../../../src/local/state-machine/intrinsic-functions.js';

// AWS "Intrinsic functions for JSONPath states" and spec § "Intrinsic Functions".
const run = (expr: string, input: unknown = {}, ctx: unknown = {}): unknown => evaluateIntrinsic(expr, input, ctx);

describe('intrinsic functions', () => {
  it('States.Format with paths, escaped quotes and escaped braces', () => {
    expect(run("States.Format('Hello, my name is {}.', $.name)", { name: 'Arnav' })).toBe('Hello, my name is Arnav.');
    expect(run("States.Format('It\\'s {} \\{literal\\}', $.n)", { n: 3 })).toBe("It's 3 {literal}");
    expect(() => run("States.Format('{} {}', 'a')")).toThrow(/more placeholders/);
  });

  it('nests calls', () => {
    expect(run("States.Format('{}-{}', States.ArrayLength($.a), States.MathAdd($.n, 1))", { a: [1, 2], n: 41 })).toBe(
      '2-42',
    );
    expect(run('States.ArrayGetItem(States.Array(1, 2, 3), 1)')).toBe(2);
  });

  it('JSON conversions', () => {
    expect(run('States.StringToJson($.s)', { s: '{"number": 20}' })).toEqual({ number: 20 });
    expect(run('States.JsonToString($.o)', { o: { a: 1 } })).toBe('{"a":1}');
    expect(() => run('States.StringToJson($.s)', { s: '{oops' })).toThrow(StatesRuntimeError);
  });

  it('array functions', () => {
    expect(run("States.Array('Foo', 2020, $.x, null)", { x: true })).toEqual(['Foo', 2020, true, null]);
    expect(run('States.ArrayPartition($.a, 4)', { a: [1, 2, 3, 4, 5, 6, 7, 8, 9] })).toEqual([
      [1, 2, 3, 4],
      [5, 6, 7, 8],
      [9],
    ]);
    expect(run('States.ArrayContains($.a, $.v)', { a: [1, 2, 3], v: 3 })).toBe(true);
    expect(run('States.ArrayRange(1, 9, 2)')).toEqual([1, 3, 5, 7, 9]);
    expect(run('States.ArrayLength($.a)', { a: [1, 2, 3] })).toBe(3);
    expect(run('States.ArrayUnique($.a)', { a: [1, 2, 3, 3, 3, 3, 3, 3, 4] })).toEqual([1, 2, 3, 4]);
    expect(() => run('States.ArrayGetItem($.a, 5)', { a: [1] })).toThrow(/out of bounds/);
  });

  it('encoding, hashing, merging, math, split, uuid', () => {
    expect(run("States.Base64Encode('Data to encode')")).toBe('RGF0YSB0byBlbmNvZGU=');
    expect(run("States.Base64Decode('RGF0YSB0byBlbmNvZGU=')")).toBe('Data to encode');
    expect(run("States.Hash('input data', 'SHA-1')")).toBe('aaff4a450a104cd177d28d18d74485e8cae074b7');
    expect(run('States.JsonMerge($.a, $.b, false)', { a: { x: 1, n: { y: 1 } }, b: { n: { z: 2 } } })).toEqual({
      x: 1,
      n: { z: 2 },
    });
    expect(run('States.MathAdd(111, -1)')).toBe(110);
    const r = run('States.MathRandom(1, 999)') as number;
    expect(r).toBeGreaterThanOrEqual(1);
    expect(r).toBeLessThan(999);
    expect(run('States.MathRandom(1, 999, 42)')).toBe(run('States.MathRandom(1, 999, 42)'));
    expect(run("States.StringSplit($.s, '.+,=')", { s: 'This.is+a,test=string' })).toEqual([
      'This',
      'is',
      'a',
      'test',
      'string',
    ]);
    expect(run('States.UUID()')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('reads the context object', () => {
    expect(run("States.Format('{}', $$.Execution.Name)", {}, { Execution: { Name: 'run-1' } })).toBe('run-1');
  });

  it('rejects unknown functions and bad arity at parse time', () => {
    expect(() => parseIntrinsic('States.Nope(1)')).toThrow(/unknown intrinsic function 'States.Nope'/);
    expect(() => parseIntrinsic('States.UUID(1)')).toThrow(/takes 0 arguments/);
    expect(() => parseIntrinsic("States.Format('unterminated)")).toThrow(/unterminated/);
    const failure = (() => {
      try {
        run('States.JsonMerge($.a, $.b, true)', { a: {}, b: {} });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect((failure as StatesRuntimeError).error).toBe('States.IntrinsicFailure');
  });
});
