/**
 * Issue 12: the compiled fast path of R4 validation must give exactly the verdicts and issues of the
 * full validation (`@medplum/core` plus required bindings), over valid and invalid resources alike.
 */
import { evalFhirPathTyped, toTypedValue, UCUM } from '@medplum/core';
import { describe, expect, it } from 'vitest';
import { fastValidationIssues, INVARIANT_SHORTCUTS } from '../../../src/local/fhir-store/fast-validation.js';
import { checkResource, checkResourceFully } from '../../../src/local/fhir-store/resource-validator.js';
import type { FhirResource } from '../../../src/local/fhir-store/types.js';
import { generatedCorpus, handMade, mutate, prng, type Json } from './resource-corpus.js';

/** What a check answered: its result, or the error it threw. */
function outcome(check: () => unknown): unknown {
  try {
    return { result: check() };
  } catch (error) {
    return { threw: (error as Error).message };
  }
}

function expectSameAsFull(resource: FhirResource): void {
  const full = outcome(() => checkResourceFully(resource));
  expect(
    outcome(() => checkResource(resource)),
    JSON.stringify(resource),
  ).toEqual(full);
  const fast = fastValidationIssues(resource);
  if (fast !== undefined) {
    // The fast path only answers for resources the full validation finds valid.
    const result = (full as { result?: { errors: unknown[] } }).result;
    expect(result?.errors, JSON.stringify(resource)).toEqual([]);
  }
}

describe('fast R4 validation', () => {
  const corpus = generatedCorpus();

  it('answers for every valid generated resource, with the full validation’s issues (warnings included)', () => {
    expect(corpus.length).toBeGreaterThan(1000);
    for (const resource of corpus) {
      expect(fastValidationIssues(resource), JSON.stringify(resource)).toBeDefined();
      expectSameAsFull(resource);
    }
  });

  it('gives the full validation’s verdict and issues for hand-made valid and invalid resources', () => {
    let invalid = 0;
    for (const resource of handMade) {
      expectSameAsFull(resource);
      if ((outcome(() => checkResourceFully(resource)) as { result?: { errors: unknown[] } }).result?.errors.length)
        invalid++;
    }
    expect(invalid).toBeGreaterThan(30);
  });

  it('gives the full validation’s verdict and issues for randomly mutated resources', () => {
    const random = prng(12);
    const sources = [...corpus.filter((_, index) => index % 3 === 0), ...handMade];
    let invalid = 0;
    for (let round = 0; round < 2; round++) {
      for (const source of sources) {
        const mutated = mutate(source, random);
        expectSameAsFull(mutated);
        if ((outcome(() => checkResourceFully(mutated)) as { result?: { errors: unknown[] } }).result?.errors.length)
          invalid++;
      }
    }
    expect(invalid).toBeGreaterThan(500);
  });

  it('skips an invariant only where the FHIRPath engine finds it true', () => {
    const contexts: Json[] = [{}];
    const collect = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(collect);
      else if (typeof value === 'object' && value !== null) {
        contexts.push(value as Json);
        Object.values(value).forEach(collect);
      }
    };
    [...corpus.slice(0, 150), ...handMade].forEach(collect);
    for (const [expression, alternatives] of INVARIANT_SHORTCUTS) {
      for (const names of alternatives) {
        for (const context of contexts) {
          const without = Object.fromEntries(
            Object.entries(context).filter(([key]) => !names.some((name) => key.startsWith(name))),
          );
          const value = toTypedValue(without);
          const result = evalFhirPathTyped(expression, [value], {
            '%context': value,
            '%ucum': toTypedValue(UCUM),
            '%resource': value,
            '%rootResource': value,
          });
          expect(
            result.map((item) => item.value),
            `${expression} on ${JSON.stringify(without)}`,
          ).toEqual([true]);
        }
      }
    }
  });
});
