import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startUp, tempDir } from './cli-harness.js';

describe('incremental FHIR export end to end through the CLI', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let config: string;
  beforeAll(async () => {
    dir = await tempDir('e2e-export');
    config = join(dir.path, 'config.json');
    await writeFile(
      config,
      JSON.stringify({ tables: [], export: { initialCheckDelaySeconds: 1, maxCheckDelaySeconds: 2 } }),
    );
  });
  afterAll(async () => dir.cleanup());

  it('seeds, exports everything, then exports only the changes', async () => {
    const state = join(dir.path, 'state');
    const up = await startUp(state, ['--config', config, '--no-export-schedule']);
    try {
      const cli = (...args: string[]) => runCli([...args, '--dir', state, '--config', config]);
      const seed = await cli('seed', '--patients', '3', '--no-dynamodb');
      expect(seed.code, seed.stderr).toBe(0);
      expect(seed.stdout).toMatch(/Patient 3/);

      const first = await cli('sync');
      expect(first.code, first.stderr).toBe(0);

      // Change the store between runs: update one patient, delete another, create a new one.
      const fhir = up.endpoints.fhir!;
      const p0 = (await (await fetch(`${fhir}/Patient/p-000000`)).json()) as Record<string, unknown>;
      const put = await fetch(`${fhir}/Patient/p-000000`, {
        method: 'PUT',
        headers: { 'content-type': 'application/fhir+json' },
        body: JSON.stringify({ ...p0, gender: 'unknown' }),
      });
      expect(put.status).toBe(200);
      expect((await fetch(`${fhir}/Patient/p-000001`, { method: 'DELETE' })).status).toBeLessThan(300);
      const created = await fetch(`${fhir}/Patient/new-1`, {
        method: 'PUT',
        headers: { 'content-type': 'application/fhir+json' },
        body: JSON.stringify({ resourceType: 'Patient', id: 'new-1', gender: 'female' }),
      });
      expect(created.status).toBe(201);

      const second = await cli('sync');
      expect(second.code, second.stderr).toBe(0);

      const runs = await cli('runs', '--format', 'json');
      const all = JSON.parse(runs.stdout) as Array<{
        status: string;
        since: string | null;
        transactionTime: string;
        counts: Record<string, { resources: number; deleted: number }>;
      }>;
      expect(all).toHaveLength(2);
      const [latest, earliest] = all;
      expect(earliest!.status).toBe('COMPLETED');
      expect(earliest!.since).toBeNull();
      expect(earliest!.counts.Patient!.resources).toBe(3);
      expect(latest!.status).toBe('COMPLETED');
      // The watermark is the previous export's transactionTime, and only the changes were exported.
      expect(latest!.since).toBe(earliest!.transactionTime);
      expect(latest!.counts.Patient).toEqual({ resources: 2, deleted: 1, errors: 0 });
      expect(latest!.counts.Observation).toBeUndefined();

      const query = await cli('query', '--format', 'json', 'select id, gender from fhir_patient order by id');
      expect(query.code, query.stderr).toBe(0);
      expect(JSON.parse(query.stdout)).toEqual([
        { id: 'new-1', gender: 'female' },
        { id: 'p-000000', gender: 'unknown' },
        { id: 'p-000002', gender: expect.any(String) },
      ]);
      // Nothing lost or doubled: every version once in the history.
      const history = await cli(
        'query',
        '--format',
        'json',
        "select count(*)::INT as n, count(distinct id || '/' || coalesce(meta.versionId, 'tomb'))::INT as distinct_versions from fhir_patient_history",
      );
      const { n, distinct_versions } = (
        JSON.parse(history.stdout) as Array<{ n: number; distinct_versions: number }>
      )[0]!;
      expect(n).toBe(distinct_versions);
      expect(n).toBe(6); // 3 first versions, p-000000 v2, new-1 v1, p-000001's tombstone
    } finally {
      expect(await up.stop()).toBe(0);
    }
  });
});
