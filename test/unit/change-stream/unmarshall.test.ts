import { isLosslessNumber, parse } from 'lossless-json';
import { describe, expect, it } from 'vitest';
import {
  exactNumber,
  InvalidAttributeValueError,
  stringifyLossless,
  unmarshallItem,
  unmarshallValue,
} from '../../../src/change-stream/index.js';

const line = (item: Parameters<typeof unmarshallItem>[0]) => stringifyLossless(unmarshallItem(item));

describe('unmarshall', () => {
  it('keeps a 38-digit N verbatim in the serialised line', () => {
    const digits = '12345678901234567890123456789012345678';
    const text = line({ big: { N: digits } });
    expect(text).toBe(`{"big":${digits}}`);
    // JSON.parse would round it; the digits in the text are exact
    expect(String(JSON.parse(text).big)).not.toBe(digits);
    expect((parse(text) as { big: { value: string } }).big.value).toBe(digits);
  });

  it.each([
    ['-0.000000000000000000000000000000000001', '-0.000000000000000000000000000000000001'],
    ['-99999999999999999999999999999999999999', '-99999999999999999999999999999999999999'],
    ['1E+130', '1E+130'],
    ['1.5e-10', '1.5e-10'],
    ['0', '0'],
    ['-1.25', '-1.25'],
  ])('keeps N %s exact', (n, expected) => {
    expect(line({ n: { N: n } })).toBe(`{"n":${expected}}`);
  });

  it.each([
    ['+5', '5'],
    ['007', '7'],
    ['.5', '0.5'],
    ['5.', '5'],
    ['-00.50', '-0.50'],
  ])('normalises loose N %s to valid JSON %s', (n, expected) => {
    expect(line({ n: { N: n } })).toBe(`{"n":${expected}}`);
  });

  it('rejects a non-numeric N without quoting it', () => {
    try {
      unmarshallItem({ secret: { N: 'Jane Doe' } });
      expect.fail('accepted');
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidAttributeValueError);
      expect((error as Error).message).toBe('attribute secret: N is not a number');
      expect((error as Error).message).not.toContain('Jane');
    }
  });

  it('names the nested path of a bad value', () => {
    expect(() => unmarshallItem({ a: { M: { b: { L: [{ S: 'ok' }, { N: 'x' }] } } } })).toThrow(
      'attribute a.b.L[1]: N is not a number',
    );
    expect(() => unmarshallItem({ a: { X: 1 } as never })).toThrow('attribute a: has no known type');
  });

  it('S, BOOL, NULL, empty strings', () => {
    expect(unmarshallItem({ s: { S: '' }, t: { BOOL: true }, f: { BOOL: false }, z: { NULL: true } })).toEqual({
      s: '',
      t: true,
      f: false,
      z: null,
    });
    expect(line({ s: { S: '' }, z: { NULL: true } })).toBe('{"s":"","z":null}');
  });

  it('sets become arrays; NS numbers stay exact', () => {
    expect(line({ ss: { SS: ['a', 'b'] }, ns: { NS: ['1', '12345678901234567890123456789012345678'] } })).toBe(
      '{"ss":["a","b"],"ns":[1,12345678901234567890123456789012345678]}',
    );
  });

  it('binary: base64 text passes through; SDK bytes become base64', () => {
    expect(unmarshallValue({ B: 'AAEC' })).toBe('AAEC');
    expect(unmarshallValue({ B: new Uint8Array([0, 1, 2]) })).toBe('AAEC');
    expect(unmarshallValue({ BS: ['AAEC', new Uint8Array([255])] })).toEqual(['AAEC', '/w==']);
  });

  it('nested M and L', () => {
    const value = unmarshallValue({
      M: { list: { L: [{ N: '1' }, { M: { deep: { SS: ['x'] } } }, { NULL: true }, { L: [] }] }, empty: { M: {} } },
    });
    expect(stringifyLossless(value)).toBe('{"list":[1,{"deep":["x"]},null,[]],"empty":{}}');
    const list = (value as { list: unknown[] }).list;
    expect(isLosslessNumber(list[0])).toBe(true);
  });

  it('escapes strings and keys as JSON', () => {
    expect(line({ 'we"ird\nkey': { S: 'line\n"quoted" \u2028 é' } })).toBe(
      JSON.stringify({ 'we"ird\nkey': 'line\n"quoted" \u2028 é' }),
    );
  });

  it('exactNumber returns a LosslessNumber with the digits', () => {
    expect(exactNumber('42').value).toBe('42');
  });
});

describe('stringifyLossless', () => {
  it('writes Dates as ISO, bytes as base64, skips undefined like JSON.stringify', () => {
    expect(
      stringifyLossless({ d: new Date(0), b: new Uint8Array([1]), u: undefined, n: Number.NaN, arr: [undefined] }),
    ).toBe('{"d":"1970-01-01T00:00:00.000Z","b":"AQ==","n":null,"arr":[null]}');
  });
});
