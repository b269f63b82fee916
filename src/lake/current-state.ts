import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ObjectStore } from '../ports/object-store.js';
import { quotePath } from '../query/sql-text.js';
import { changeOrderSql } from './change-order.js';
import { lakeLayout } from './layout.js';

/** What one {@link materialiseCurrentState} call did: counts only. */
export interface CurrentStateUpdate {
  table: string;
  /** Change files folded in this call (each gets its own Parquet delta). */
  files: number;
  /** Keys those deltas hold (the latest record per key of each file). */
  keys: number;
}

/**
 * The Parquet delta of one change file: `changes/<table>/<partitions>/<name>.ndjson.gz` →
 * `current/<table>/<partitions>/<name>.parquet`.
 *
 * @example
 * currentKeyOf('changes/visits/year=2024/month=03/day=01/1-9-ab.ndjson.gz') // 'current/visits/year=2024/month=03/day=01/1-9-ab.parquet'
 */
export function currentKeyOf(changeKey: string): string {
  return changeKey.replace(/^changes\//, 'current/').replace(/\.ndjson\.gz$/, '.parquet');
}

/**
 * Materialises a change-stream table's current state (merge-on-read): every change file without a delta yet gets one,
 * `current/<table>/…/<same name>.parquet` (zstd) with, per key in that file, its latest record by `_order` (see
 * `changeOrderSql`: source time, then stream over export over snapshot, then `seq`): `_key` (the keys' JSON text),
 * `keys`, `item` (the new image, JSON; NULL for a delete), `_deleted`, `seq`, `ts`, `eventId`, `_order`.
 * `current_<table>` keeps per `_key` the greatest `_order` and drops deletes. Change file names are
 * deterministic, so a replay maps to the same delta: idempotent, and O(new files) reads and writes per call (by
 * default it lists `changes/<table>/` and `current/<table>/` whole; `changeKeys` looks up only those files' deltas).
 *
 * @example
 * await materialiseCurrentState({ store: lake, table: 'visits' });
 */
export async function materialiseCurrentState(options: {
  store: ObjectStore;
  table: string;
  scratchDir?: string;
  /**
   * Only these change files (e.g. the one an S3 event names), each skipped when its delta exists: no listing of the
   * whole table. Keys outside `changes/<table>/` or not `.ndjson.gz` are ignored.
   *
   * @default - every change file of the table without a delta (two listings of the table's prefixes)
   */
  changeKeys?: readonly string[];
}): Promise<CurrentStateUpdate> {
  const { store, table } = options;
  const prefix = lakeLayout.changes(table);
  const todo: string[] = [];
  if (options.changeKeys) {
    for (const key of new Set(options.changeKeys)) {
      if (!key.startsWith(prefix) || !key.endsWith('.ndjson.gz')) continue;
      const target = currentKeyOf(key);
      let exists = false;
      for await (const listed of store.list(target)) if (listed.key === target) exists = true;
      if (!exists) todo.push(key);
    }
  } else {
    const done = new Set<string>();
    for await (const { key } of store.list(`current/${prefix.slice('changes/'.length)}`))
      if (key.endsWith('.parquet')) done.add(key);
    for await (const { key } of store.list(prefix))
      if (key.endsWith('.ndjson.gz') && !done.has(currentKeyOf(key))) todo.push(key);
  }
  const update: CurrentStateUpdate = { table, files: 0, keys: 0 };
  if (todo.length === 0) return update;

  const dir = await mkdtemp(join(options.scratchDir ?? tmpdir(), 'tributary-current-'));
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await instance.connect();
  try {
    for (const key of todo) {
      const input = join(dir, 'changes.ndjson.gz');
      const output = join(dir, 'current.parquet');
      await writeFile(input, (await store.get(key)) ?? new Uint8Array());
      const columns = `{'op': 'VARCHAR', 'keys': 'JSON', 'after': 'JSON', 'eventId': 'VARCHAR', 'seq': 'VARCHAR', 'ts': 'VARCHAR', 'source': 'JSON'}`;
      await connection.run(
        `COPY (SELECT keys::VARCHAR AS _key, keys, after AS item, op = 'd' AS _deleted, seq, ts, eventId, _order
           FROM (SELECT *, ${changeOrderSql} AS _order
                 FROM read_json(${quotePath(input)}, format = 'newline_delimited', columns = ${columns}))
           QUALIFY row_number() OVER (PARTITION BY keys::VARCHAR ORDER BY _order DESC) = 1)
         TO ${quotePath(output)} (FORMAT parquet, COMPRESSION zstd)`,
      );
      const reader = await connection.runAndReadAll(`SELECT count(*)::INTEGER FROM read_parquet(${quotePath(output)})`);
      update.keys += reader.getRows()[0]![0] as number;
      await store.put(currentKeyOf(key), createReadStream(output), { contentType: 'application/vnd.apache.parquet' });
      update.files += 1;
    }
    return update;
  } finally {
    connection.closeSync();
    instance.closeSync();
    await rm(dir, { recursive: true, force: true });
  }
}
