import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BLEND_JOIN_SQL } from '../../../src/cli/demo-job.js';
import { DirectoryObjectStore } from '../../../src/local/object-store/directory-object-store.js';
import { LakeQuery } from '../../../src/query/lake-query.js';
import { DEFAULT_VIEW_FILES, loadViewFiles } from '../../../src/views/lake/load-views.js';
import { rebuildViews } from '../../../src/views/lake/update-views.js';
import { testLake, type TestLake } from '../query/lake-fixture.js';

const patient = (id: string, domainId: string, gender: string) => ({
  resourceType: 'Patient',
  id,
  meta: { versionId: '1', lastUpdated: '2024-03-01T10:00:00Z' },
  identifier: [
    { system: 'urn:example:mrn', value: `mrn-${id}` },
    { system: 'urn:tributary:patient-id', value: domainId },
  ],
  gender,
  birthDate: '1980-05-01',
});
const change = (seq: string, op: string, patientId: string) => ({
  op,
  table: 'visits',
  keys: { id: `v${seq}` },
  before: op === 'c' ? null : { id: `v${seq}`, patientId },
  after: op === 'd' ? null : { id: `v${seq}`, patientId },
  eventId: `e${seq}`,
  seq,
  ts: '2024-03-01T10:00:00Z',
});

describe('demo: the blend join through view_patient', () => {
  let lake: TestLake;
  beforeEach(() => {
    lake = testLake();
  });
  afterEach(() => lake.remove());

  it('joins change records to patients by a plain equality on the patient-id identifier', async () => {
    lake.put('fhir/Patient/year=2024/month=03/day=01/20240301T100000.000Z_job_Patient_ab-0000.ndjson.gz', [
      patient('fhir-1', 'dom-1', 'female'),
      patient('fhir-2', 'dom-2', 'male'),
    ]);
    lake.put('changes/visits/year=2024/month=03/day=01/1-3-abc.ndjson.gz', [
      change('1', 'c', 'dom-1'),
      change('2', 'u', 'dom-1'),
      change('3', 'd', 'dom-2'),
    ]);
    await rebuildViews({ store: new DirectoryObjectStore(lake.dir), views: loadViewFiles(DEFAULT_VIEW_FILES) });
    expect(BLEND_JOIN_SQL).toMatch(/on p\.patient_id = /);
    expect(BLEND_JOIN_SQL).not.toMatch(/list_filter/);
    const query = await LakeQuery.open(lake.dir);
    try {
      expect((await query.run(BLEND_JOIN_SQL)).rows).toEqual([
        { patient: 'fhir-1', gender: 'female', birth_year: '1980', visit_changes: 2 },
        { patient: 'fhir-2', gender: 'male', birth_year: '1980', visit_changes: 1 },
      ]);
    } finally {
      await query.close();
    }
  });
});
