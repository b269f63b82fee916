/**
 * Materialised views: the default ViewDefinitions over a synthetic lake (Patient, Observation, Condition, Encounter),
 * written as Parquet in the lake (`rebuild`), against `@medplum/core`'s `evalSqlOnFhir` on the same views and
 * resources with no file output (the baseline), and our engine with no output (`engine`). `incremental` lands a
 * second run that changes 1% of the resources (a tenth of them deletes) and times the views' incremental update.
 *
 * Variants run in order: `generate` (n = resources), `medplum`, `engine`, `rebuild`, `incremental`.
 */
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import { createGzip } from 'node:zlib';
import { evalSqlOnFhir } from '@medplum/core';
import { DirectoryObjectStore } from '../../src/local/object-store/directory-object-store.js';
import { generatePatientPlans, literalReferences, renderPatientResources } from '../../src/synthetic/index.js';
import { DEFAULT_VIEW_FILES, loadViewFiles } from '../../src/views/lake/load-views.js';
import { lakeFilesOf, readLakeResources } from '../../src/views/lake/lake-resources.js';
import { rebuildViews, updateViewsForRun } from '../../src/views/lake/update-views.js';
import { caseArgs, measure } from '../measure.js';

const { variant, n, dir } = caseArgs();
const root = join(dir, `views-${n}`);
const lakeDir = join(root, 'lake');
const TYPES = ['Patient', 'Observation', 'Condition', 'Encounter'];
const RUN1 = '2026-10-01T00:00:00.000Z';
const RUN2 = '2026-10-02T00:00:00.000Z';
const prefix = (tx: string) => tx.replace(/[-:]/g, '');
const LINES_PER_FILE = 20_000;

/** Gzip NDJSON lake files of one run, a new file every LINES_PER_FILE lines per type. */
class RunWriter {
  private readonly open = new Map<
    string,
    { out: NodeJS.WritableStream; file: NodeJS.WritableStream; lines: number; part: number }
  >();
  public constructor(private readonly tx: string) {}
  public async write(resource: { resourceType: string } & Record<string, unknown>): Promise<void> {
    const type = resource.resourceType;
    let file = this.open.get(type);
    if (file && file.lines >= LINES_PER_FILE) {
      await this.close(type);
      file = { ...this.start(type, file.part + 1), lines: 0, part: file.part + 1 };
      this.open.set(type, file);
    }
    if (!file) this.open.set(type, (file = { ...this.start(type, 0), lines: 0, part: 0 }));
    file.lines += 1;
    if (!file.out.write(`${JSON.stringify(resource)}\n`)) await once(file.out, 'drain');
  }
  public async end(): Promise<void> {
    for (const type of [...this.open.keys()]) await this.close(type);
  }
  private start(type: string, part: number): { out: NodeJS.WritableStream; file: NodeJS.WritableStream } {
    const day = this.tx.slice(0, 10).split('-');
    const folder = join(lakeDir, 'fhir', type, `year=${day[0]}`, `month=${day[1]}`, `day=${day[2]}`);
    mkdirSync(folder, { recursive: true });
    const gzip = createGzip();
    const file = createWriteStream(join(folder, `${prefix(this.tx)}_bench_${type}_${part}-0000.ndjson.gz`));
    gzip.pipe(file);
    return { out: gzip, file };
  }
  private async close(type: string): Promise<void> {
    const open = this.open.get(type)!;
    open.out.end();
    await once(open.file, 'finish');
    this.open.delete(type);
  }
}

async function* resources(store: DirectoryObjectStore): AsyncGenerator<Record<string, unknown>> {
  for (const type of TYPES)
    for await (const { resource } of readLakeResources(store, await lakeFilesOf(store, type), {
      onUnreadable: () => undefined,
    }))
      yield resource;
}

const views = loadViewFiles(DEFAULT_VIEW_FILES);
const store = new DirectoryObjectStore(lakeDir);

if (variant === 'generate') {
  await rm(root, { recursive: true, force: true });
  const writer = new RunWriter(RUN1);
  let count = 0;
  outer: for (const plan of generatePatientPlans({ patients: 10_000_000, seed: 'bench-views' })) {
    for (const resource of renderPatientResources(plan, literalReferences)) {
      if (!TYPES.includes(resource.resourceType)) continue;
      await writer.write({ ...resource, meta: { versionId: '1', lastUpdated: RUN1 } });
      if (++count >= n) break outer;
    }
  }
  await writer.end();
  process.stderr.write(`bench: generated ${count} resources under ${lakeDir}\n`);
} else if (variant === 'medplum') {
  await measure(
    { name: 'views', variant: `baseline: @medplum/core evalSqlOnFhir, no output (n=${n})`, unit: 'rows' },
    async () => {
      let rows = 0;
      let batch: Record<string, unknown>[] = [];
      const flush = () => {
        for (const view of views) {
          const definition = JSON.parse(JSON.stringify(viewDefinition(view.name))) as never;
          rows += evalSqlOnFhir(definition, batch.filter((r) => r.resourceType === view.resource) as never).length;
        }
        batch = [];
      };
      for await (const resource of resources(store)) {
        batch.push(resource);
        if (batch.length >= 1000) flush();
      }
      flush();
      return { items: rows };
    },
  );
} else if (variant === 'engine') {
  await measure({ name: 'views', variant: `engine rows, no output (n=${n})`, unit: 'rows' }, async () => {
    let rows = 0;
    for await (const resource of resources(store)) for (const view of views) rows += view.rows(resource).length;
    return { items: rows };
  });
} else if (variant === 'rebuild') {
  await measure({ name: 'views', variant: `views rebuild → Parquet in the lake (n=${n})`, unit: 'rows' }, async () => {
    const updates = await rebuildViews({ store, views });
    return { items: updates.reduce((sum, u) => sum + u.rows, 0) };
  });
} else if (variant === 'incremental') {
  // A second run: 1% of the resources, a new version each (every tenth a delete).
  const writer = new RunWriter(RUN2);
  let changed = 0;
  let seen = 0;
  for await (const resource of resources(store)) {
    if (++seen % 100 !== 0) continue;
    changed += 1;
    const meta = { versionId: '2', lastUpdated: RUN2 };
    await writer.write(
      changed % 10 === 0
        ? { resourceType: resource.resourceType as string, id: resource.id, meta, _tombstone: true, _deletedAt: RUN2 }
        : {
            ...resource,
            resourceType: resource.resourceType as string,
            meta,
            ...(resource.status ? { status: 'entered-in-error' } : {}),
          },
    );
  }
  await writer.end();
  await measure(
    { name: 'views', variant: `incremental update, 1% changed (${changed} of ${seen} resources)`, unit: 'resources' },
    async () => {
      const updates = await updateViewsForRun({ store, views }, { transactionTime: RUN2 });
      return { items: updates.reduce((sum, u) => sum + u.resources, 0) };
    },
  );
  await rm(root, { recursive: true, force: true });
}

function viewDefinition(name: string): unknown {
  const file = DEFAULT_VIEW_FILES.find((f) => f.endsWith(`/${name}.json`))!;
  return JSON.parse(readFileSync(file, 'utf8')) as unknown;
}
