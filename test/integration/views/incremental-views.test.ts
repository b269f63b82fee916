import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { viewUpdateHook } from '../../../src/local/view-updates.js';
import { DirectoryObjectStore } from '../../../src/local/object-store/directory-object-store.js';
import { LakeQuery } from '../../../src/query/lake-query.js';
import { runView } from '../../../src/views/evaluate.js';
import { DEFAULT_VIEW_FILES, loadViewFiles } from '../../../src/views/lake/load-views.js';
import { rebuildViews, updateViewsForRun } from '../../../src/views/lake/update-views.js';
import { writeParquet } from '../../../src/views/parquet.js';
import type { CompiledView, RowError } from '../../../src/views/types.js';
import { LocalStack } from '../fhir-export/local-stack.js';

const views = loadViewFiles(DEFAULT_VIEW_FILES);
const TYPES = ['Patient', 'Observation', 'Condition', 'Encounter'] as const;

/** A small deterministic PRNG (mulberry32), so a failing sequence can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function resource(type: (typeof TYPES)[number], id: string, n: number, patients: string[]): Record<string, unknown> {
  const subject = patients.length > 0 ? { reference: `Patient/${patients[n % patients.length]}` } : undefined;
  switch (type) {
    case 'Patient':
      return {
        resourceType: 'Patient',
        id,
        identifier: [
          { system: 'urn:tributary:patient-id', value: `dom-${id}-${n}` },
          { system: 'urn:example:mrn', value: `mrn-${n}` },
        ],
        name: [{ family: `Family${n}`, given: ['A', `G${n}`] }],
        gender: n % 2 ? 'female' : 'male',
        birthDate: `19${String(50 + (n % 50)).padStart(2, '0')}-0${1 + (n % 9)}-1${n % 10}`,
      };
    case 'Observation':
      return {
        resourceType: 'Observation',
        id,
        status: 'final',
        code: { coding: [{ system: 'http://loinc.org', code: n % 2 ? '8867-4' : '29463-7', display: 'x' }] },
        ...(subject ? { subject } : {}),
        effectiveDateTime: `2024-0${1 + (n % 9)}-01T10:00:00Z`,
        valueQuantity: { value: n + 0.5, unit: 'kg' },
      };
    case 'Condition':
      return {
        resourceType: 'Condition',
        id,
        code: { coding: [{ system: 'http://snomed.info/sct', code: String(44054006 + n) }] },
        ...(subject ? { subject } : {}),
        onsetDateTime: `2023-0${1 + (n % 9)}-02`,
      };
    case 'Encounter':
      return {
        resourceType: 'Encounter',
        id,
        status: 'finished',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: n % 2 ? 'AMB' : 'EMER' },
        ...(subject ? { subject } : {}),
        period: { start: '2024-01-01T10:00:00Z', end: `2024-01-01T1${n % 10}:00:00Z` },
      };
  }
}

/** Every current resource of a type, through FHIR search (paged). */
async function storeResources(base: string, type: string): Promise<unknown[]> {
  const out: unknown[] = [];
  let url: string | undefined = `${base}/${type}?_count=1000`;
  while (url) {
    const bundle = (await (await fetch(url)).json()) as {
      entry?: Array<{ resource: unknown }>;
      link?: Array<{ relation: string; url: string }>;
    };
    out.push(...(bundle.entry ?? []).map((e) => e.resource));
    url = bundle.link?.find((l) => l.relation === 'next')?.url;
  }
  return out;
}

const sorted = (rows: unknown[]) => rows.map((row) => JSON.stringify(row)).sort();

async function viewRows(lake: string, view: string): Promise<string[]> {
  const query = await LakeQuery.open(lake);
  try {
    if (!query.views.some((v) => v.name === `view_${view}`)) return [];
    return sorted((await query.run(`select * from view_${view}`)).rows);
  } finally {
    await query.close();
  }
}

/** The engine over the store's current resources, typed through the same Parquet writer, read back by DuckDB. */
async function expectedRows(lake: string, view: CompiledView, resources: unknown[], scratch: string) {
  const file = join(scratch, `${view.name}-expected.parquet`);
  await writeParquet(view.columns, runView(view, resources, { onRowError: () => undefined }), file);
  const query = await LakeQuery.open(lake);
  try {
    return sorted((await query.run(`select * from read_parquet('${file}')`)).rows);
  } finally {
    await query.close();
  }
}

describe('materialised views in the lake', () => {
  let stack: LocalStack;
  let scratch: string;
  beforeEach(async () => {
    stack = await LocalStack.start();
    scratch = await mkdtemp(join(tmpdir(), 'tributary-views-test-'));
  });
  afterEach(async () => {
    await stack.close();
    await rm(scratch, { recursive: true, force: true });
  });

  it('after runs of creates, updates and deletes, incremental views equal a full rebuild and the engine over the store', async () => {
    const runtime = await stack.runtimeWith({}, { onRunCompleted: viewUpdateHook(stack.lake) });
    const next = random(20_240_301);
    const live = new Map<string, Set<string>>(TYPES.map((t) => [t, new Set<string>()]));
    let counter = 0;
    for (let run = 0; run < 4; run++) {
      for (let op = 0; op < 30; op++) {
        const type = TYPES[Math.floor(next() * TYPES.length)]!;
        const ids = [...live.get(type)!];
        const roll = next();
        counter += 1;
        if (ids.length > 0 && roll < 0.25) {
          const id = ids[Math.floor(next() * ids.length)]!;
          await stack.remove(type, id);
          live.get(type)!.delete(id);
        } else if (ids.length > 0 && roll < 0.6) {
          const id = ids[Math.floor(next() * ids.length)]!;
          await stack.put(resource(type, id, counter, [...live.get('Patient')!]) as never);
        } else {
          const id = `${type.toLowerCase()}-${counter}`;
          await stack.put(resource(type, id, counter, [...live.get('Patient')!]) as never);
          live.get(type)!.add(id);
        }
      }
      const result = await runtime.runOnce();
      expect(result.status).toBe('COMPLETED');

      // Rebuild a copy of the lake, so the incremental lake keeps its deltas for the next run.
      const copy = join(scratch, `lake-${run}`);
      await cp(stack.lake.root, copy, { recursive: true });
      await rebuildViews({ store: new DirectoryObjectStore(copy), views });
      for (const view of views) {
        const incremental = await viewRows(stack.lake.root, view.name);
        expect(incremental, `${view.name} after run ${run}: rebuild`).toEqual(await viewRows(copy, view.name));
        const current = await storeResources(stack.fhir.fhirBaseUrl, view.resource);
        expect(current.length).toBe(live.get(view.resource)!.size);
        expect(incremental, `${view.name} after run ${run}: engine`).toEqual(
          await expectedRows(stack.lake.root, view, current, scratch),
        );
      }
    }
    // Deltas, one per run that changed the view's type: O(changes) per run.
    const patientRuns = await readdir(join(stack.lake.root, 'views', 'patient'));
    expect(patientRuns.every((name) => /^run=\d{8}T\d{6}\.\d{3}Z$/.test(name))).toBe(true);
  }, 120_000);

  it('a replay of the same run changes nothing, also after later runs', async () => {
    const runtime = await stack.runtimeWith({}, { onRunCompleted: viewUpdateHook(stack.lake) });
    await stack.put(resource('Patient', 'p1', 1, []) as never);
    await stack.put(resource('Patient', 'p2', 2, []) as never);
    const first = await runtime.runOnce();
    const firstRun = (await runtime.ledger.getRun(first.runId))!;
    await stack.put(resource('Patient', 'p1', 3, []) as never);
    await stack.remove('Patient', 'p2');
    await runtime.runOnce();
    const files = async () =>
      (await readdir(join(stack.lake.root, 'views'), { recursive: true })).filter((f) => f.endsWith('.parquet')).sort();
    const before = { rows: await viewRows(stack.lake.root, 'patient'), files: await files() };
    expect(before.rows).toHaveLength(1);
    expect(before.rows[0]).toContain('Family3');

    for (const run of [firstRun, firstRun]) {
      const updates = await updateViewsForRun({ store: stack.lake, views }, { transactionTime: run.transactionTime! });
      expect(updates.find((u) => u.view === 'patient')!.key).toMatch(/^views\/patient\/run=\d{8}T/);
      expect({ rows: await viewRows(stack.lake.root, 'patient'), files: await files() }).toEqual(before);
    }
    // And after a rebuild (a base), replaying an older run writes nothing.
    await rebuildViews({ store: stack.lake, views });
    const rebuilt = { rows: await viewRows(stack.lake.root, 'patient'), files: await files() };
    expect(rebuilt.rows).toEqual(before.rows);
    const replay = await updateViewsForRun(
      { store: stack.lake, views },
      { transactionTime: firstRun.transactionTime! },
    );
    expect(replay.find((u) => u.view === 'patient')!.skipped).toMatch(/already in the base/);
    expect({ rows: await viewRows(stack.lake.root, 'patient'), files: await files() }).toEqual(rebuilt);
  }, 60_000);

  it('a resource with several values for a non-collection column goes to _errors/views/<view>/ and the others land', async () => {
    const reported: RowError[] = [];
    const runtime = await stack.runtimeWith({}, { onRunCompleted: viewUpdateHook(stack.lake) });
    await stack.put(resource('Patient', 'good', 1, []) as never);
    await stack.put({
      ...resource('Patient', 'twice', 2, []),
      identifier: [
        { system: 'urn:tributary:patient-id', value: 'a' },
        { system: 'urn:tributary:patient-id', value: 'b' },
      ],
    } as never);
    const result = await runtime.runOnce({
      onProgress: (p) => {
        if (p.type === 'ViewUpdated' && (p.detail as { errors: number }).errors > 0)
          reported.push(p.detail as unknown as RowError);
      },
    });
    expect(result.status).toBe('COMPLETED');
    expect(reported).toHaveLength(1);
    const rows = await viewRows(stack.lake.root, 'patient');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toContain('"id":"good"');
    const errorFiles = (
      await readdir(join(stack.lake.root, '_errors', 'views', 'patient'), { recursive: true })
    ).filter((f) => f.endsWith('.ndjson.gz'));
    expect(errorFiles).toHaveLength(1);
    const query = await LakeQuery.open(stack.lake.root);
    try {
      const { rows: errors } = await query.run(
        `select reason, errorType, eventId, record.view as view, record.resourceKey as resource_key from errors`,
      );
      expect(errors).toEqual([
        {
          reason: 'column patient_id: 2 values for a column that is not a collection',
          errorType: 'ViewRowError',
          eventId: 'patient:Patient/twice',
          view: 'patient',
          resource_key: 'Patient/twice',
        },
      ]);
    } finally {
      await query.close();
    }
  }, 60_000);
});
