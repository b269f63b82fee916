import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileView, parseJsonPreservingDecimals, rowsOrError, type Row } from '../../../src/views/index.js';

// The official SQL on FHIR v2 suite (MIT), read in place from the shared data folder: never copied in.
const SUITE = resolve(import.meta.dirname, '../../../../shared/data/sql-on-fhir-v2-tests');

interface SuiteTest {
  title: string;
  view: unknown;
  expect?: Row[];
  expectCount?: number;
  expectError?: boolean;
  expectColumns?: string[];
}

interface SuiteFile {
  resources: unknown[];
  tests: SuiteTest[];
}

if (!existsSync(SUITE))
  throw new Error(`SQL on FHIR v2 test suite not found at ${SUITE}: it is required, not optional`);
const files = readdirSync(SUITE)
  .filter((name) => name.endsWith('.json') && name !== 'tests.schema.json')
  .sort();
if (files.length === 0) throw new Error(`no test files in ${SUITE}`);

const passes = new Map<string, { passed: number; total: number }>();

/** Runs one suite test: rows, or the error (compile-time or row-level) it produced. */
function run(test: SuiteTest, resources: unknown[]): { rows: Row[]; columns: string[] } | { error: string } {
  try {
    const view = compileView(test.view);
    const rows: Row[] = [];
    const errors: string[] = [];
    for (const resource of resources)
      rows.push(
        ...rowsOrError(view, resource, {
          onRowError: (e) => errors.push(`${e.resourceKey}: ${e.column}: ${e.reason}`),
        }),
      );
    if (errors.length > 0) return { error: errors.join('; ') };
    return { rows, columns: view.columns.map((column) => column.name) };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

// Row order is not part of the suite's contract (its README and schema define none), so rows compare as a
// multiset; each row's key order must match exactly, which JSON text of the row checks.
const canonical = (rows: Row[]) => rows.map((row) => JSON.stringify(row)).sort();

for (const file of files) {
  // Decimals keep their text (`1.0`), as the CLI reads NDJSON; expectations are plain JSON.
  const text = readFileSync(resolve(SUITE, file), 'utf8');
  const suite = JSON.parse(text) as SuiteFile;
  const resources = (parseJsonPreservingDecimals(text) as SuiteFile).resources;
  passes.set(file, { passed: 0, total: suite.tests.length });
  describe(file, () => {
    for (const test of suite.tests) {
      it(`${file} › ${test.title}`, () => {
        const result = run(test, resources);
        if (test.expectError) {
          expect('error' in result, 'expected an error').toBe(true);
        } else {
          if ('error' in result) throw new Error(`unexpected error: ${result.error}`);
          if (test.expectColumns) expect(result.columns).toEqual(test.expectColumns);
          if (test.expectCount !== undefined) expect(result.rows.length).toBe(test.expectCount);
          if (test.expect) {
            // Strict column order: every row's keys in the view's column order. The suite's expected objects
            // do not list keys in column order (its order contract is expectColumns), so they are re-keyed in
            // our column order after checking they have exactly our columns.
            for (const row of result.rows) expect(Object.keys(row)).toEqual(result.columns);
            for (const row of test.expect) expect([...Object.keys(row)].sort()).toEqual([...result.columns].sort());
            const inOrder = test.expect.map((row) =>
              Object.fromEntries(result.columns.map((name) => [name, row[name]])),
            );
            expect(canonical(result.rows)).toEqual(canonical(inOrder));
          }
        }
        passes.get(file)!.passed += 1;
      });
    }
  });
}

afterAll(() => {
  let passed = 0;
  let total = 0;
  const lines = [...passes].map(([file, counts]) => {
    passed += counts.passed;
    total += counts.total;
    return `  ${file.padEnd(24)} ${counts.passed}/${counts.total}`;
  });
  process.stderr.write(`SQL on FHIR v2 conformance: ${passed}/${total}\n${lines.join('\n')}\n`);
});
