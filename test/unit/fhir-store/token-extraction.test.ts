/**
 * Issue 12: token index rows extracted through compiled paths must be exactly those the FHIRPath engine
 * yields for the parameter's expression, for valid, odd and randomly mutated resources.
 */
import { describe, expect, it } from 'vitest';
import { isR4ResourceType } from '../../../src/local/fhir-store/r4-definitions.js';
import { r4TokenParameters, tokenRowsWithFhirPath } from '../../../src/local/fhir-store/token-parameters.js';
import type { FhirResource } from '../../../src/local/fhir-store/types.js';
import { generatedCorpus, handMade, mutate, prng } from './resource-corpus.js';

/** What an extraction answered: its rows, or the error it threw. */
function outcome(extract: () => unknown): unknown {
  try {
    return { rows: extract() };
  } catch (error) {
    return { threw: (error as Error).message };
  }
}

function expectSameRows(resource: FhirResource): number {
  if (typeof resource.resourceType !== 'string' || !isR4ResourceType(resource.resourceType)) return 0;
  let rows = 0;
  for (const parameter of r4TokenParameters(resource.resourceType)) {
    const expected = outcome(() => tokenRowsWithFhirPath(resource.resourceType, parameter.code, resource));
    expect(
      outcome(() => parameter.extract(resource)),
      `${resource.resourceType}.${parameter.code} of ${JSON.stringify(resource)}`,
    ).toEqual(expected);
    rows += (expected as { rows?: unknown[] }).rows?.length ?? 0;
  }
  return rows;
}

describe('token extraction', () => {
  const corpus = generatedCorpus();

  it('yields the FHIRPath engine’s rows for generated and hand-made resources', () => {
    let rows = 0;
    for (const resource of [...corpus, ...handMade]) rows += expectSameRows(resource);
    expect(rows).toBeGreaterThan(corpus.length);
  });

  it('yields the FHIRPath engine’s rows for randomly mutated resources', () => {
    const random = prng(7);
    for (let round = 0; round < 3; round++)
      for (const source of [...corpus.filter((_, index) => index % 4 === 0), ...handMade])
        expectSameRows(mutate(source, random));
  });
});
