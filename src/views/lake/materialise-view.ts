import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ObjectStore } from '../../ports/object-store.js';
import { resourceKey, rowsOrError } from '../evaluate.js';
import { columnSqlType } from '../parquet.js';
import type { CompiledView, RowError } from '../types.js';
import { BASE_SUFFIX, viewRunKey } from './layout.js';
import { readLakeResources, versionKey } from './lake-resources.js';
import type { ViewUpdate } from './types.js';
import { writeViewErrors } from './view-errors.js';

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
const literal = (text: string) => `'${text.replace(/'/g, "''")}'`;

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
 * or only a marker with `_deleted` when that version is a tombstone. Rows stream through a staging NDJSON file into
 * one DuckDB `COPY`, so memory stays flat; the object is put at once (atomic). Resources the view cannot turn into
 * rows keep their marker (their old rows go) and are written to `_errors/views/<view>/`.
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
    const resources = readLakeResources(store, input.files, { onUnreadable: () => (update.unreadable += 1) });
    for await (const entry of resources) {
      const { resource } = entry;
      if (resource.resourceType !== view.resource || typeof resource.id !== 'string') continue;
      update.resources += 1;
      const key = resourceKey(resource);
      const v = versionKey(entry);
      const deleted = resource._tombstone === true;
      buffer += `{"_resource_key":${JSON.stringify(key)},"_v":${JSON.stringify(v)},"_marker":true,"_deleted":${deleted}}\n`;
      if (!deleted) {
        const head = `{"_resource_key":${JSON.stringify(key)},"_v":${JSON.stringify(v)},"_marker":false,"_deleted":false,`;
        for (const row of rowsOrError(view, resource, hooks)) buffer += `${head}${JSON.stringify(row).slice(1)}\n`;
      }
      if (buffer.length >= 1 << 20) {
        if (!stream.write(buffer)) await once(stream, 'drain');
        buffer = '';
      }
    }
    stream.end(buffer);
    await once(stream, 'finish');

    const output = join(dir, `${view.name}.parquet`);
    const counts = await copyToParquet(view, staging, output, run);
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
 * One DuckDB `COPY`: reads the staged rows typed from the view's columns, keeps per key the rows of its greatest
 * version key, adds the run tag and writes Parquet (zstd).
 */
async function copyToParquet(
  view: CompiledView,
  staging: string,
  output: string,
  run: string,
): Promise<{ keys: number; deleted: number; rows: number }> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
  const connection = await instance.connect();
  try {
    const hidden: Array<[string, string]> = [
      ['_resource_key', 'VARCHAR'],
      ['_v', 'VARCHAR'],
      ['_marker', 'BOOLEAN'],
      ['_deleted', 'BOOLEAN'],
    ];
    const types = [...view.columns.map((column): [string, string] => [column.name, columnSqlType(column)]), ...hidden]
      .map(([name, type]) => `${literal(name)}: ${literal(type)}`)
      .join(', ');
    const select = view.columns.map((column) => quote(column.name)).join(', ');
    const base = run.endsWith(BASE_SUFFIX);
    await connection.run(
      `COPY (SELECT ${select}, _resource_key, ${literal(run)} AS _run, _marker, _deleted, ${base} AS _base
         FROM read_json(${literal(staging)}, format = 'newline_delimited', columns = {${types}})
         QUALIFY _v = max(_v) OVER (PARTITION BY _resource_key))
       TO ${literal(output)} (FORMAT parquet, COMPRESSION zstd)`,
    );
    const reader = await connection.runAndReadAll(
      `SELECT count(*) FILTER (WHERE _marker)::INTEGER, count(*) FILTER (WHERE _marker AND _deleted)::INTEGER,
              count(*) FILTER (WHERE NOT _marker)::INTEGER FROM read_parquet(${literal(output)})`,
    );
    const [keys, deleted, rows] = reader.getRows()[0] as [number, number, number];
    return { keys, deleted, rows };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
