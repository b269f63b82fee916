import { describe, expect, it } from 'vitest';
import { compileFhirPath } from '../../../src/views/fhirpath/compile.js';
import { FhirDecimal, parseJsonPreservingDecimals } from '../../../src/views/fhirpath/decimal.js';
import { FhirPathError, FhirPathEvaluationError } from '../../../src/views/fhirpath/errors.js';

const evaluate = (
  expression: string,
  resource: unknown,
  constants = new Map<string, { value: unknown; type: string }>(),
) => compileFhirPath(expression, { constants }).fn([resource], { resource, rowIndex: 0, index: 0 });

const patient = {
  resourceType: 'Patient',
  id: 'p1',
  name: [
    { use: 'official', family: 'Smith', given: ['Ann', 'B'] },
    { family: 'Jones', given: ['C'] },
  ],
  deceasedBoolean: false,
  link: [{ other: { reference: 'Patient/p9/_history/2' } }, { other: { reference: 'http://x.org/fhir/Patient/p8' } }],
};

describe('FHIRPath subset', () => {
  it('navigates, flattens arrays and reads a leading resource type', () => {
    expect(evaluate('name.given', patient)).toEqual(['Ann', 'B', 'C']);
    expect(evaluate('Patient.name.family', patient)).toEqual(['Smith', 'Jones']);
    expect(evaluate('Observation.id', patient)).toEqual([]);
  });

  it('follows operator precedence: arithmetic before comparison before and/or', () => {
    expect(evaluate('1 + 2 * 3 = 7 and 10 div 3 = 3 or false', patient)).toEqual([true]);
    expect(evaluate('0.1 + 0.2', patient)).toEqual([0.3]);
    expect(evaluate("'a' & {} & 'b'", patient)).toEqual(['ab']);
    expect(evaluate('-2 * 3', patient)).toEqual([-6]);
  });

  it('is three-valued: empty propagates through = and and, but false and {} is false', () => {
    expect(evaluate('birthDate = @1970', patient)).toEqual([]);
    expect(evaluate('false and birthDate = @1970', patient)).toEqual([false]);
    expect(evaluate('true or birthDate = @1970', patient)).toEqual([true]);
  });

  it('reads a choice element with or without ofType', () => {
    expect(evaluate('deceased', patient)).toEqual([false]);
    expect(evaluate('deceased.ofType(boolean)', patient)).toEqual([false]);
    expect(evaluate('deceased.ofType(dateTime)', patient)).toEqual([]);
    // Quantity.value is no choice: ofType falls back to what the JSON says.
    expect(evaluate('value.ofType(Quantity).value.ofType(decimal)', { valueQuantity: { value: 2.5 } })).toEqual([2.5]);
  });

  it('makes reference keys of relative references only, filtered by type', () => {
    expect(evaluate('link.other.getReferenceKey()', patient)).toEqual(['p9']);
    expect(evaluate('link.other.getReferenceKey(Observation)', patient)).toEqual([]);
    expect(evaluate('getResourceKey()', patient)).toEqual(['p1']);
  });

  it('computes boundaries exactly, from the text of a decimal', () => {
    const resource = parseJsonPreservingDecimals('{"a":1.0,"b":-2.50,"c":3}');
    expect(evaluate('a.lowBoundary()', resource)).toEqual([new FhirDecimal('0.95')]);
    expect(evaluate('b.highBoundary()', resource)).toEqual([new FhirDecimal('-2.495')]);
    expect(evaluate('c.highBoundary()', resource)).toEqual([new FhirDecimal('3.5')]);
    expect(evaluate('@2024-02.highBoundary()', resource)).toEqual(['2024-02-29']);
    expect(evaluate('@2024-02-03T10:30.lowBoundary()', resource)).toEqual(['2024-02-03T10:30:00.000+14:00']);
    expect(evaluate('@T10.highBoundary()', resource)).toEqual(['10:59:59.999']);
  });

  it('indexes, and uses constants and $this', () => {
    const constants = new Map([['i', { value: 1, type: 'integer' }]]);
    expect(evaluate('name[%i].family', patient, constants)).toEqual(['Jones']);
    expect(evaluate("name.given.where($this = 'B' or $this = 'C').count()", patient)).toEqual([2]);
    expect(evaluate("name.given.join(' ')", patient)).toEqual(['Ann B C']);
  });

  it('rejects bad expressions at compile time with a reason', () => {
    expect(() => compileFhirPath('name.foo()')).toThrow(new FhirPathError("unknown function 'foo'"));
    expect(() => compileFhirPath('%nope')).toThrow(new FhirPathError("unknown constant '%nope'"));
    expect(() => compileFhirPath('first(1)')).toThrow(/takes 0 arguments/);
    expect(() => compileFhirPath("name.where(use = 'x'")).toThrow(/expected '\)'/);
    expect(() => compileFhirPath('@@')).toThrow(FhirPathError);
  });

  it('fails at evaluation when a boolean operator gets several values', () => {
    expect(() => evaluate('name.family and true', patient)).toThrow(FhirPathEvaluationError);
  });
});

describe('parseJsonPreservingDecimals', () => {
  it('keeps only the numbers a double would change as text', () => {
    expect(parseJsonPreservingDecimals('{"a":1.50,"b":2,"c":"1.0","d":12345678901234567890}')).toEqual({
      a: new FhirDecimal('1.50'),
      b: 2,
      c: '1.0',
      d: new FhirDecimal('12345678901234567890'),
    });
  });

  it('finds a trailing-zero fraction wherever a JSON number may end, and not in an instant', () => {
    expect(parseJsonPreservingDecimals('{"a":[1.0 , 2.50]}')).toEqual({
      a: [new FhirDecimal('1.0'), new FhirDecimal('2.50')],
    });
    expect(parseJsonPreservingDecimals('{"a":1.0\n}')).toEqual({ a: new FhirDecimal('1.0') });
    expect(parseJsonPreservingDecimals('1.10')).toEqual(new FhirDecimal('1.10'));
    expect(parseJsonPreservingDecimals('{"t":"2026-10-01T00:00:00.000Z","v":2.5}')).toEqual({
      t: '2026-10-01T00:00:00.000Z',
      v: 2.5,
    });
  });
});
