import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollExport, startHarness, type Harness, type Json } from './harness.js';
import { syntheaLikeBundle, syntheaOrganization } from './synthea-bundle.js';

// A measurement, not a benchmark gate: it prints rates and asserts only correctness.
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ exportMaxResourcesPerFile: 5_000 });
  await h.request('POST', '/Organization', syntheaOrganization);
});
afterAll(async () => {
  await h.close();
});

describe('throughput (measured, not asserted)', () => {
  it('ingests Synthea-shaped transaction bundles and exports them', async () => {
    const bundles = 40;
    let resources = 0;
    const ingestStart = performance.now();
    for (let i = 0; i < bundles; i += 1) {
      const bundle = syntheaLikeBundle(i, 10, 8);
      resources += bundle.entry.length;
      const response = await h.request('POST', '', bundle);
      expect(response.status).toBe(200);
    }
    const ingestSeconds = (performance.now() - ingestStart) / 1000;
    const exportStart = performance.now();
    const response = await fetch(`${h.base}/$export`, { headers: { prefer: 'respond-async' } });
    const manifest = (await pollExport(h, response.headers.get('content-location') as string)).json;
    const exportSeconds = (performance.now() - exportStart) / 1000;
    const exported = manifest.output.reduce((sum: number, file: Json) => sum + file.count, 0);
    // Practitioner is conditionally created once; everything else is new.
    expect(exported).toBe(resources - (bundles - 1) + 1);
    console.log(
      `[fhir-store throughput] ingest: ${resources} resources in ${bundles} transaction bundles, ${ingestSeconds.toFixed(2)} s, ` +
        `${Math.round(resources / ingestSeconds)} resources/s; export: ${exported} resources, ${exportSeconds.toFixed(2)} s, ` +
        `${Math.round(exported / exportSeconds)} resources/s; rss ${Math.round(process.memoryUsage().rss / 2 ** 20)} MiB`,
    );
  });
});
