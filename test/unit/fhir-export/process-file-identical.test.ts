/**
 * process-file must write exactly the bytes it wrote before its fast path (commit 27f2ed8): the same lake keys, the
 * same gzip bytes in every file, the same result and the same events, on inputs full of the cases it treats specially
 * (see fixtures/process-file-identical/inputs.ts), whatever the chunking of the input stream.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { processExportFile } from '../../../src/fhir-export/process-file.js';
import { identityCases } from './fixtures/process-file-identical/inputs.js';
import { runCase, type CaseOutput } from './fixtures/process-file-identical/run-case.js';

const expected = JSON.parse(
  readFileSync(new URL('./fixtures/process-file-identical/expected.json', import.meta.url), 'utf8'),
) as Record<string, CaseOutput>;

describe('processExportFile output is byte-identical to the reference implementation', () => {
  const cases = identityCases();
  it('covers every expected case', () => {
    expect(cases.map((c) => c.name).sort()).toEqual(Object.keys(expected).sort());
  });
  for (const testCase of cases)
    for (const chunkSize of [65_536, 4_093, 7])
      it(`${testCase.name}, input read in chunks of ${chunkSize} bytes`, async () => {
        const actual = await runCase(processExportFile, testCase, chunkSize);
        const want = expected[testCase.name]!;
        expect(Object.keys(actual.files)).toEqual(Object.keys(want.files));
        expect(actual.files).toEqual(want.files);
        expect(actual.result).toEqual(want.result);
        expect(actual.events).toEqual(want.events);
      });
});
