import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DirectoryObjectStore } from '../../../src/local/object-store/directory-object-store.js';
import { materialiseView } from '../../../src/views/lake/materialise-view.js';
import { lakeFilesOf } from '../../../src/views/lake/lake-resources.js';
import { compileView } from '../../../src/views/compile-view.js';

const view = compileView({
  resourceType: 'ViewDefinition',
  name: 'pat',
  status: 'active',
  resource: 'Patient',
  select: [{ column: [{ name: 'family', path: 'name.family', type: 'string' }] }],
});

const patient = (id: string, family: string, lastUpdated: string, versionId: string, tombstone = false) => ({
  resourceType: 'Patient',
  id,
  meta: { lastUpdated, versionId },
  ...(tombstone ? { _tombstone: true } : { name: [{ family }] }),
});

describe('materialiseView picks the current version of each key', () => {
  let dir: string;
  let store: DirectoryObjectStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'materialise-view-'));
    store = new DirectoryObjectStore(join(dir, 'lake'));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  async function land(run: string, part: string, resources: unknown[]) {
    const text = `${resources.map((r) => JSON.stringify(r)).join('\n')}\n`;
    await store.put(`fhir/Patient/year=2024/month=03/day=01/${run}_j_Patient_${part}-0000.ndjson.gz`, gzipSync(text));
  }

  it('whatever order the versions are read in: older after newer, newer after older, ties, deletes', async () => {
    const run1 = '20240301T100000.000Z';
    const run2 = '20240302T100000.000Z';
    await land(run1, 'a', [
      patient('p1', 'New', '2024-03-01T09:00:00Z', '2'),
      patient('p2', 'Old', '2024-03-01T08:00:00Z', '1'),
      patient('p3', 'First', '2024-03-01T08:00:00Z', '1'),
      patient('p4', 'Alive', '2024-03-01T08:00:00Z', '1'),
    ]);
    await land(run1, 'b', [
      patient('p1', 'Stale', '2024-03-01T08:00:00Z', '1'), // older version read later: loses
      patient('p2', 'Newer', '2024-03-01T09:00:00Z', '2'), // newer version read later: wins
      patient('p3', 'Again', '2024-03-01T08:00:00Z', '1'), // the same version landed twice: the later landing
      patient('p4', '', '2024-03-01T08:00:00Z', '1', true), // tombstone wins a tie on lastUpdated
    ]);
    await land(run2, 'a', [patient('p1', 'Later run', '2024-01-01T00:00:00Z', '1')]); // a later run always wins
    const files = await lakeFilesOf(store, 'Patient');
    const update = await materialiseView({ store, view, files, run: `${run2}~base`, scratchDir: dir });
    expect(update).toMatchObject({ resources: 9, keys: 4, deleted: 1, rows: 3, errors: 0 });

    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      const path = join(dir, 'lake', update.key!);
      const reader = await connection.runAndReadAll(
        `SELECT _resource_key, family, _marker, _deleted FROM read_parquet('${path}') ORDER BY _resource_key, _marker`,
      );
      expect(reader.getRowObjectsJson()).toEqual([
        { _resource_key: 'Patient/p1', family: 'Later run', _marker: false, _deleted: false },
        { _resource_key: 'Patient/p1', family: null, _marker: true, _deleted: false },
        { _resource_key: 'Patient/p2', family: 'Newer', _marker: false, _deleted: false },
        { _resource_key: 'Patient/p2', family: null, _marker: true, _deleted: false },
        { _resource_key: 'Patient/p3', family: 'Again', _marker: false, _deleted: false },
        { _resource_key: 'Patient/p3', family: null, _marker: true, _deleted: false },
        { _resource_key: 'Patient/p4', family: null, _marker: true, _deleted: true },
      ]);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });
});
