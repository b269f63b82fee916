import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { processExportFile, transactionTimePrefix } from '../../../src/fhir-export/process-file.js';
import type { ProcessFileInput } from '../../../src/fhir-export/types.js';
import { DirectoryObjectStore } from '../../../src/local/object-store/directory-object-store.js';
import type { BusEvent, EventBus, PublishResult } from '../../../src/ports/event-bus.js';

const TX = '2024-07-01T12:00:00.000Z';

describe('processExportFile', () => {
  let dir: string;
  let exportBucket: DirectoryObjectStore;
  let lake: DirectoryObjectStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'process-file-'));
    exportBucket = new DirectoryObjectStore(join(dir, 'exports'));
    lake = new DirectoryObjectStore(join(dir, 'lake'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const input = (key: string, type: string, kind: 'output' | 'deleted' | 'error' = 'output'): ProcessFileInput => ({
    bucket: 'exports',
    key,
    type,
    kind,
    jobId: 'job-1',
    runId: 'run-1',
    transactionTime: TX,
  });
  const deps = (extra: { bus?: EventBus; maxBufferedBytes?: number; compressionLevel?: number } = {}) => ({
    exportStore: () => exportBucket,
    lake,
    ...extra,
  });
  const listLake = async (prefix = '') => {
    const keys: string[] = [];
    for await (const { key } of lake.list(prefix)) keys.push(key);
    return keys;
  };
  const readLines = async (key: string) =>
    gunzipSync((await lake.get(key))!)
      .toString('utf8')
      .trimEnd()
      .split('\n');

  it('lands valid resources byte for byte, partitioned by meta.lastUpdated; rejects bad lines with file + line number', async () => {
    const lines = [
      '{"resourceType":"Patient","id":"a","meta":{"lastUpdated":"2024-03-05T10:00:00Z"},"x":1.50}',
      'not json',
      '',
      '{"resourceType":"Patient","meta":{"lastUpdated":"2024-03-05T10:00:00Z"}}',
      '{"resourceType":"Observation","id":"o","meta":{"lastUpdated":"2024-03-05T10:00:00Z"}}',
      '{"resourceType":"Patient","id":"b","meta":{"lastUpdated":"2024-03-06T23:59:59Z"}}\r',
      '{"resourceType":"Patient","id":"c","meta":{"lastUpdated":"garbage"}}',
      '{"resourceType":"Patient","id":"d"}',
    ];
    await exportBucket.put('pfx/exports/Patient/Patient-1.ndjson', lines.join('\n'));
    const result = await processExportFile(input('pfx/exports/Patient/Patient-1.ndjson', 'Patient'), deps());
    expect(result).toMatchObject({ type: 'Patient', kind: 'output', resources: 3, deleted: 0, errors: 4 });

    const keys = await listLake('fhir/');
    expect(keys.map((k) => k.replace(/[^/]+$/, ''))).toEqual([
      'fhir/Patient/year=2024/month=03/day=05/',
      'fhir/Patient/year=2024/month=03/day=06/',
      'fhir/Patient/year=2024/month=07/day=01/',
    ]);
    expect(await readLines(keys[0]!)).toEqual([lines[0]]); // 1.50 kept exactly
    const errorKeys = await listLake('_errors/fhir-export/year=2024/month=07/day=01/');
    const errors = (await readLines(errorKeys[0]!)).map(
      (l) => JSON.parse(l) as { line: number; reason: string; file: string },
    );
    expect(errors.map((e) => [e.line, e.reason])).toEqual([
      [2, 'not valid JSON'],
      [4, 'missing id'],
      [5, 'resourceType Observation does not match file type Patient'],
      [7, 'meta.lastUpdated is not a valid instant'],
    ]);
    expect(errors[0]!.file).toBe('pfx/exports/Patient/Patient-1.ndjson');
    expect(JSON.stringify(errors)).not.toContain('Observation","id"'); // reasons only, never the line
  });

  it('turns deleted Bundles into tombstones by type', async () => {
    const bundle = (entries: unknown[]) =>
      JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: entries });
    await exportBucket.put(
      'x/_deleted/Bundle-1.ndjson',
      [
        bundle([
          { request: { method: 'DELETE', url: 'Patient/p9' } },
          {
            request: { method: 'DELETE', url: 'Observation/o9/_history/3' },
            response: { lastModified: '2024-06-30T08:00:00Z' },
          },
        ]),
        bundle([{ request: { method: 'PUT', url: 'Patient/p8' } }]),
      ].join('\n'),
    );
    const result = await processExportFile(input('x/_deleted/Bundle-1.ndjson', 'Bundle', 'deleted'), deps());
    expect(result).toMatchObject({
      kind: 'deleted',
      resources: 0,
      deleted: 2,
      errors: 1,
      deletedByType: { Patient: 1, Observation: 1 },
    });
    const [patientKey] = await listLake('fhir/Patient/');
    expect((await readLines(patientKey!)).map((l) => JSON.parse(l) as unknown)).toEqual([
      { resourceType: 'Patient', id: 'p9', meta: { lastUpdated: TX }, _tombstone: true, _deletedAt: TX },
    ]);
    const [observationKey] = await listLake('fhir/Observation/year=2024/month=06/day=30/');
    expect(JSON.parse((await readLines(observationKey!))[0]!)).toMatchObject({
      id: 'o9',
      _deletedAt: '2024-06-30T08:00:00.000Z',
    });
  });

  it('is idempotent: a retry writes the same objects with the same content, even when split into parts', async () => {
    const lines = Array.from({ length: 500 }, (_, i) =>
      JSON.stringify({
        resourceType: 'Patient',
        id: `p${i}`,
        meta: { lastUpdated: `2024-01-0${(i % 3) + 1}T00:00:00Z` },
        pad: 'x'.repeat(100),
      }),
    );
    await exportBucket.put('e/Patient-1.ndjson', lines.join('\n'));
    const first = await processExportFile(input('e/Patient-1.ndjson', 'Patient'), deps({ maxBufferedBytes: 10_000 }));
    const keysFirst = await listLake('fhir/');
    const contentFirst = await Promise.all(keysFirst.map((k) => lake.get(k)));
    const second = await processExportFile(input('e/Patient-1.ndjson', 'Patient'), deps({ maxBufferedBytes: 10_000 }));
    expect(second).toEqual(first);
    expect(first.files).toBeGreaterThan(3); // the 10 kB budget forced several parts per partition
    expect(await listLake('fhir/')).toEqual(keysFirst);
    expect(await Promise.all(keysFirst.map((k) => lake.get(k)))).toEqual(contentFirst);
    const total = (await Promise.all(keysFirst.map(readLines))).flat();
    expect(new Set(total.map((l) => (JSON.parse(l) as { id: string }).id)).size).toBe(500);
    expect(total).toHaveLength(500);
  });

  it('a malformed lastUpdated is rejected, and valid resources of the same day still land in their own partition', async () => {
    const bad = '{"resourceType":"Patient","id":"bad","meta":{"lastUpdated":"303a-03-05T10:00:00Z"}}';
    const good = '{"resourceType":"Patient","id":"good","meta":{"lastUpdated":"2030-03-05T10:00:00Z"}}';
    for (const [name, lines] of [
      ['bad-first', [bad, good]],
      ['good-first', [good, bad]],
    ] as const) {
      await exportBucket.put(`e/${name}.ndjson`, lines.join('\n'));
      const result = await processExportFile(input(`e/${name}.ndjson`, 'Patient'), deps());
      expect(result, name).toMatchObject({ resources: 1, errors: 1 });
    }
    const landed = await listLake('fhir/');
    expect(landed.length).toBeGreaterThan(0);
    for (const key of landed) {
      expect(key).toMatch(/^fhir\/Patient\/year=2030\/month=03\/day=05\//);
      expect(await readLines(key)).toEqual([good]);
    }
  });

  it("compressionLevel changes the files' bytes, not their names or lines (default: level 6)", async () => {
    const lines = Array.from({ length: 300 }, (_, i) =>
      JSON.stringify({
        resourceType: 'Patient',
        id: `p${i}`,
        meta: { lastUpdated: TX },
        text: `note ${i % 7} `.repeat(20),
      }),
    );
    await exportBucket.put('e/Patient-3.ndjson', lines.join('\n'));
    const snapshot = async () => {
      const keys = await listLake('fhir/');
      return { keys, bodies: await Promise.all(keys.map(async (key) => (await lake.get(key))!)) };
    };
    await processExportFile(input('e/Patient-3.ndjson', 'Patient'), deps());
    const byDefault = await snapshot();
    await processExportFile(input('e/Patient-3.ndjson', 'Patient'), deps({ compressionLevel: 6 }));
    expect(await snapshot()).toEqual(byDefault);
    await processExportFile(input('e/Patient-3.ndjson', 'Patient'), deps({ compressionLevel: 1 }));
    const fast = await snapshot();
    expect(fast.keys).toEqual(byDefault.keys);
    expect(fast.bodies.map((body) => gunzipSync(body))).toEqual(byDefault.bodies.map((body) => gunzipSync(body)));
    expect(Buffer.concat(fast.bodies).equals(Buffer.concat(byDefault.bodies))).toBe(false);
  });

  it('publishes FhirResourceChanged events (ids only) in batches, and fails loudly when the bus rejects some', async () => {
    await exportBucket.put(
      'e/Patient-2.ndjson',
      Array.from({ length: 5 }, (_, i) =>
        JSON.stringify({
          resourceType: 'Patient',
          id: `p${i}`,
          meta: { versionId: '1', lastUpdated: TX },
          name: [{ family: 'Secret' }],
        }),
      ).join('\n'),
    );
    const batches: BusEvent[][] = [];
    const bus: EventBus = {
      publish: async (events): Promise<PublishResult> => {
        batches.push([...events]);
        return { published: events.length, failed: [] };
      },
    };
    await processExportFile(input('e/Patient-2.ndjson', 'Patient'), { ...deps(), bus, eventBatchSize: 2 });
    expect(batches.map((b) => b.length)).toEqual([2, 2, 1]);
    expect(batches[0]![0]).toMatchObject({
      source: 'tributary.fhir-export',
      detailType: 'FhirResourceChanged',
      detail: { resourceType: 'Patient', id: 'p0', versionId: '1', deleted: false },
    });
    expect(JSON.stringify(batches)).not.toContain('Secret');

    const failing: EventBus = {
      publish: async (events) => ({ published: 0, failed: events.map((event) => ({ event, errorCode: 'X' })) }),
    };
    await expect(
      processExportFile(input('e/Patient-2.ndjson', 'Patient'), { ...deps(), bus: failing }),
    ).rejects.toThrow(/could not be published/);
  });

  it('throws ObjectNotFoundError for a missing file', async () => {
    await expect(processExportFile(input('missing.ndjson', 'Patient'), deps())).rejects.toThrow(/object not found/);
  });

  it('every lake file name starts with the export transactionTime (YYYYMMDDTHHMMSS.mmmZ_), so a line is attributable to its export', async () => {
    expect(transactionTimePrefix('2026-12-01T12:59:59.123Z')).toBe('20261201T125959.123Z');
    await exportBucket.put('j/Patient-1.ndjson', ['{"resourceType":"Patient","id":"a"}', 'not json'].join('\n'));
    await exportBucket.put(
      'j/_deleted-1.ndjson',
      JSON.stringify({ resourceType: 'Bundle', entry: [{ request: { method: 'DELETE', url: 'Patient/z' } }] }),
    );
    await processExportFile(input('j/Patient-1.ndjson', 'Patient'), deps());
    await processExportFile(input('j/_deleted-1.ndjson', 'Bundle', 'deleted'), deps());
    const names = (await listLake()).map((key) => key.split('/').pop()!);
    expect(names.length).toBe(3); // resource, tombstone, rejected line
    for (const name of names) expect(name).toMatch(/^20240701T120000\.000Z_job-1_/);
  });

  it("lands an export's error file (OperationOutcome lines) under _errors/fhir-export/ with the run's ids, counted as errors", async () => {
    const outcome = {
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code: 'exception', diagnostics: 'x' }],
    };
    await exportBucket.put('j/_errors-1.ndjson', `${JSON.stringify(outcome)}\n\nnot json\n`);
    const result = await processExportFile(input('j/_errors-1.ndjson', 'OperationOutcome', 'error'), deps());
    expect(result).toMatchObject({ type: 'OperationOutcome', kind: 'error', resources: 0, errors: 2, files: 1 });
    const [key] = await listLake('_errors/fhir-export/');
    expect(key).toMatch(/^_errors\/fhir-export\/year=2024\/month=07\/day=01\/20240701T120000\.000Z_job-1_/);
    const lines = (await readLines(key!)).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.line)).toEqual([1, 3]);
    expect(lines[0]).toMatchObject({ runId: 'run-1', jobId: 'job-1', transactionTime: TX, outcome });
    expect(lines[1]).toMatchObject({ outcome: 'not json' });
    expect(await listLake('fhir/')).toEqual([]);
  });
});
