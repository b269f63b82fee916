import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generatePopulation, writePopulationNdjson } from '../../../src/synthetic/index.js';
import { collectReferences, type Loose } from './bundle-helpers.js';

describe('writePopulationNdjson', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tributary-synthetic-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const readLines = async (file: string) =>
    (await readFile(file, 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, Loose>);

  it('writes one file per type holding the same resources as the bundles, with literal references', async () => {
    const progress: number[] = [];
    const summary = await writePopulationNdjson(dir, {
      patients: 30,
      seed: 5,
      onProgress: (done) => progress.push(done),
    });
    expect((await readdir(dir)).sort()).toEqual(
      ['Condition', 'Encounter', 'MedicationRequest', 'Observation', 'Organization', 'Patient', 'Practitioner'].map(
        (t) => `${t}.ndjson`,
      ),
    );
    const bundleResources = [...generatePopulation({ patients: 30, seed: 5 })].flatMap((b) =>
      b.entry.map((e) => e.resource),
    );
    const observations = await readLines(join(dir, 'Observation.ndjson'));
    const expected = bundleResources.filter((r) => r.resourceType === 'Observation');
    expect(observations.map((o) => o.id)).toEqual(expected.map((o) => o.id));
    expect(observations[0]!.valueQuantity ?? observations[0]!.component).toEqual(
      expected[0]!.valueQuantity ?? expected[0]!.component,
    );
    expect(summary.files.Observation!.resources).toBe(expected.length);
    expect(summary.patients).toBe(30);
    expect(progress.at(-1)).toBe(30);

    const ids = new Set<string>();
    const all: Record<string, Loose>[] = [];
    for (const file of await readdir(dir)) {
      for (const resource of await readLines(join(dir, file))) {
        ids.add(`${resource.resourceType}/${resource.id}`);
        all.push(resource);
      }
    }
    expect(all).toHaveLength(summary.resources);
    for (const reference of collectReferences(all)) expect(ids.has(reference), reference).toBe(true);
  });

  it('writes only the requested types', async () => {
    const summary = await writePopulationNdjson(dir, { patients: 10, seed: 5, types: ['Observation'] });
    expect(await readdir(dir)).toEqual(['Observation.ndjson']);
    expect(Object.keys(summary.files)).toEqual(['Observation']);
    const lines = await readLines(join(dir, 'Observation.ndjson'));
    expect(lines.every((line) => line.resourceType === 'Observation')).toBe(true);
    expect(summary.files.Observation!.bytes).toBe((await readFile(join(dir, 'Observation.ndjson'))).length);
  });
});
