import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBInstance } from '@duckdb/node-api';
import type { ObjectStore } from '../../ports/object-store.js';
import { resourceKey, rowsOrError } from '../evaluate.js';
import { columnSqlType, literal, quote } from '../parquet.js';
import type { CompiledView, RowError } from '../types.js';
import { BASE_SUFFIX, viewRunKey } from './layout.js';
import { readLakeResources, versionOrderOf } from './lake-resources.js';
import type { ViewUpdate } from './types.js';
import { writeViewErrors } from './view-errors.js';

/**
 * The best version of each id read so far, in columns: a map entry and a few bytes per id (no object, no resource
 * string but a short versionId), since a rebuild keeps one per resource of the type. A version is compared by
 * {@link versionOrderOf} only when its id repeats.
 */
class BestVersions {
  private readonly slots = new Map<string, number>();
  private readonly runs: string[] = [];
  private readonly runSlots = new Map<string, number>();
  private readonly versions: string[] = [];
  private seqs = new Int32Array(1024);
  private runOf = new Int32Array(1024);
  private updated = new Float64Array(1024);
  private tombstones = new Uint8Array(1024);

  /**
   * Offers version `seq` of `id`, read after every version offered before. Returns the sequence number of the
   * version it supersedes (0 when the id is new), or -1 when an earlier-read version stays the best (a tie goes to
   * the later read: its file and line are greater, see `versionKey`).
   */
  public offer(id: string, seq: number, run: string, updated: number, tombstone: boolean, version: string): number {
    let runSlot = this.runSlots.get(run);
    if (runSlot === undefined) this.runSlots.set(run, (runSlot = this.runs.push(run) - 1));
    let slot = this.slots.get(id);
    let superseded = 0;
    if (slot === undefined) {
      slot = this.slots.size;
      this.slots.set(id, slot);
      if (slot === this.seqs.length) this.grow();
    } else {
      const before = versionOrderOf(
        this.runs[this.runOf[slot]!]!,
        this.updated[slot]!,
        this.tombstones[slot] === 1,
        this.versions[slot]!,
      );
      if (versionOrderOf(run, updated, tombstone, version) < before) return -1;
      superseded = this.seqs[slot]!;
    }
    this.seqs[slot] = seq;
    this.runOf[slot] = runSlot;
    this.updated[slot] = updated;
    this.tombstones[slot] = tombstone ? 1 : 0;
    this.versions[slot] = version;
    return superseded;
  }

  private grow(): void {
    const size = this.seqs.length * 2;
    const grown = <T extends Int32Array | Float64Array | Uint8Array>(from: T, to: T): T => {
      to.set(from);
      return to;
    };
    this.seqs = grown(this.seqs, new Int32Array(size));
    this.runOf = grown(this.runOf, new Int32Array(size));
    this.updated = grown(this.updated, new Float64Array(size));
    this.tombstones = grown(this.tombstones, new Uint8Array(size));
  }
}

// Rows per Parquet row group. DuckDB's writer holds row groups in memory on their way out, so its default (122,880)
// made peak memory grow with the view (about +100 MiB at 300k resources); 10 × 2,048-row vectors keeps it nearly flat
// at no measured cost in time and ~5% in file size (half of it again, 10,240, saves ~10 MiB more for +18% size).
const ROW_GROUP_ROWS = 20_480;

/** Input of {@link materialiseView}. */
export interface MaterialiseViewInput {
  store: ObjectStore;
  view: CompiledView;
  /** Lake keys of the view's resource files, in export order (see `lakeFilesOf`). */
  files: readonly string[];
  /** The run tag the file is written under; ending in `~base` makes it a base. */
  run: string;
  scratchDir?: string;
  onRowError?: (error: RowError) => void;
}

/**
 * Materialises one view over lake files into one Parquet object (zstd) at `views/<view>/run=<run>/<view>.parquet`:
 * for every resource key the files hold, the rows of its current version (see `versionKey`) plus one marker row,
 * or only a marker with `_deleted` when that version is a tombstone. The current version of each key is picked in
 * JavaScript as the files stream (a map from key to its best version so far: a few bytes per key, no rows), so
 * an older version's rows are never staged and a superseded one's are dropped by sequence number; the rows stream
 * through a staging NDJSON file into one DuckDB `COPY` (no sort, no window), so memory grows only by that map and
 * stays nearly flat; the object is put
 * at once (atomic). Resources the view cannot turn into rows keep their marker (their old rows go) and are written
 * to `_errors/views/<view>/`.
 *
 * @example
 * const update = await materialiseView({ store, view, files, run: '20240301T100000.000Z' });
 */
export async function materialiseView(input: MaterialiseViewInput): Promise<ViewUpdate> {
  const { store, view, run } = input;
  const update: ViewUpdate = { view: view.name, resources: 0, keys: 0, deleted: 0, rows: 0, errors: 0, unreadable: 0 };
  const errors: RowError[] = [];
  const dir = await mkdtemp(join(input.scratchDir ?? tmpdir(), `tributary-view-${view.name}-`));
  try {
    const staging = join(dir, 'rows.ndjson');
    const stream = createWriteStream(staging);
    const hooks = {
      onRowError: (error: RowError) => {
        errors.push(error);
        input.onRowError?.(error);
      },
    };
    let buffer = '';
    let best: BestVersions | undefined = new BestVersions();
    // Sequence numbers of staged versions that a later-read, greater version superseded.
    const stale: number[] = [];
    let seq = 0;
    const resources = readLakeResources(store, input.files, { onUnreadable: () => (update.unreadable += 1) });
    for await (const { resource, run: entryRun } of resources) {
      const id = resource.id;
      if (resource.resourceType !== view.resource || typeof id !== 'string') continue;
      update.resources += 1;
      const deleted = resource._tombstone === true;
      // Every version is evaluated (its row errors are reported, as they always were), even one that loses.
      const rows = deleted ? [] : rowsOrError(view, resource, hooks);
      const meta = (resource.meta ?? {}) as { lastUpdated?: unknown; versionId?: unknown };
      const updated = typeof meta.lastUpdated === 'string' ? Date.parse(meta.lastUpdated) : NaN;
      const version = typeof meta.versionId === 'string' ? meta.versionId : '';
      const superseded = best.offer(id, (seq += 1), entryRun, updated, deleted, version);
      if (superseded < 0) continue;
      if (superseded > 0) stale.push(superseded);
      const key = resourceKey(resource);
      const head = `{"_resource_key":${JSON.stringify(key)},"_seq":${seq},`;
      buffer += `${head}"_marker":true,"_deleted":${deleted}}\n`;
      for (const row of rows) buffer += `${head}"_marker":false,"_deleted":false,${JSON.stringify(row).slice(1)}\n`;
      if (buffer.length >= 1 << 16) {
        if (!stream.write(buffer)) await once(stream, 'drain');
        buffer = '';
      }
    }
    best = undefined; // before DuckDB runs, so the two never hold memory at the same time
    stream.end(buffer);
    await once(stream, 'finish');

    const output = join(dir, `${view.name}.parquet`);
    const counts = await copyToParquet(view, staging, output, run, stale, seq);
    Object.assign(update, counts, { errors: errors.length });
    const key = viewRunKey(view.name, run);
    await writeViewErrors(store, view.name, run, errors);
    await store.put(key, createReadStream(output), { contentType: 'application/vnd.apache.parquet' });
    return { ...update, run, key };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * One DuckDB `COPY`: reads the staged rows typed from the view's columns, drops the superseded versions' rows (by
 * sequence number; usually there are none), adds the run tag and writes Parquet (zstd). One thread: the scan and the
 * write stream in staging order, which is both faster than a parallel plan on small machines and flat in memory.
 */
async function copyToParquet(
  view: CompiledView,
  staging: string,
  output: string,
  run: string,
  stale: readonly number[],
  staged: number,
): Promise<{ keys: number; deleted: number; rows: number }> {
  // A large file gets a database of its own, closed after, so the memory its COPY used goes back at once; a small one
  // (an incremental run's) reuses the process's, saving a database start per view.
  const own = staged >= OWN_INSTANCE_RESOURCES ? await createInstance() : undefined;
  const connection = await (own ?? (await sharedInstance())).connect();
  try {
    const hidden: Array<[string, string]> = [
      ['_resource_key', 'VARCHAR'],
      ['_seq', 'INTEGER'],
      ['_marker', 'BOOLEAN'],
      ['_deleted', 'BOOLEAN'],
    ];
    const types = [...view.columns.map((column): [string, string] => [column.name, columnSqlType(column)]), ...hidden]
      .map(([name, type]) => `${literal(name)}: ${literal(type)}`)
      .join(', ');
    const select = view.columns.map((column) => quote(column.name)).join(', ');
    const base = run.endsWith(BASE_SUFFIX);
    let where = '';
    if (stale.length > 0) {
      await connection.run('CREATE TEMP TABLE stale (seq INTEGER)');
      const appender = await connection.createAppender('stale');
      for (const seq of stale) {
        appender.appendInteger(seq);
        appender.endRow();
      }
      appender.closeSync();
      where = 'WHERE _seq NOT IN (SELECT seq FROM stale)';
    }
    await connection.run(
      `COPY (SELECT ${select}, _resource_key, ${literal(run)} AS _run, _marker, _deleted, ${base} AS _base
         FROM read_json(${literal(staging)}, format = 'newline_delimited', columns = {${types}}) ${where})
       TO ${literal(output)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${ROW_GROUP_ROWS})`,
    );
    const reader = await connection.runAndReadAll(
      `SELECT count(*) FILTER (WHERE _marker)::INTEGER, count(*) FILTER (WHERE _marker AND _deleted)::INTEGER,
              count(*) FILTER (WHERE NOT _marker)::INTEGER FROM read_parquet(${literal(output)})`,
    );
    const [keys, deleted, rows] = reader.getRows()[0] as [number, number, number];
    return { keys, deleted, rows };
  } finally {
    connection.closeSync();
    own?.closeSync();
  }
}

/** Staged versions from which a materialisation gets its own DuckDB (see {@link copyToParquet}). */
const OWN_INSTANCE_RESOURCES = 20_000;

const createInstance = async (): Promise<DuckDBInstance> =>
  (await import('@duckdb/node-api')).DuckDBInstance.create(':memory:', { threads: '1' });

let instance: Promise<DuckDBInstance> | undefined;

/**
 * The process's in-memory DuckDB for small view files (one thread), made on first use: every materialisation opens its
 * own connection (its temporary table is its own), so a run's views do not each pay for a new database.
 */
function sharedInstance(): Promise<DuckDBInstance> {
  instance ??= createInstance().catch((error: unknown) => {
    instance = undefined;
    throw error;
  });
  return instance;
}
