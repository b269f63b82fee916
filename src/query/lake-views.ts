import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** One view `tributary query` offers over the lake. */
export interface LakeView {
  /** SQL name, e.g. `changes_visits`, `fhir_patient`, `events`. */
  name: string;
  /** What it holds, for `--help` and `query --views`. */
  description: string;
  /** `CREATE VIEW` statement. */
  sql: string;
}

/** Turns a dataset name into a safe, lower-case SQL identifier. */
export function viewIdentifier(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9_]/g, '_');
}

const quote = (text: string) => `'${text.replace(/'/g, "''")}'`;

/** `read_json` over gzip NDJSON files below a directory, with Hive partition columns. */
function readNdjson(dir: string): string {
  const glob = `${dir.split('\\').join('/')}/**/*.ndjson.gz`;
  return `read_json(${quote(glob)}, format = 'newline_delimited', hive_partitioning = true, union_by_name = true, sample_size = -1)`;
}

/** A partition/table folder name as written (percent-encoded by the lake); a malformed escape is shown as is. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

async function subdirectories(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries
      .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
      .map((e) => e.name)
      .sort();
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return [];
    throw error;
  }
}

async function hasData(dir: string): Promise<boolean> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries.some((e) => e.isFile() && e.name.endsWith('.ndjson.gz'));
}

/**
 * Finds the datasets in a lake directory and returns a view for each:
 * `changes_<table>`, `fhir_<type>` (latest version, tombstones removed) and `fhir_<type>_history`,
 * `events`, and `errors`.
 *
 * @example
 * const views = await discoverLakeViews('.tributary/lake');
 * views.map((v) => v.name); // ['changes_visits', 'events', …]
 */
export async function discoverLakeViews(lake: string): Promise<LakeView[]> {
  const views: LakeView[] = [];
  for (const table of await subdirectories(join(lake, 'changes'))) {
    const dir = join(lake, 'changes', table);
    if (!(await hasData(dir))) continue;
    const name = `changes_${viewIdentifier(decodeSegment(table))}`;
    // Delivery is at least once: a replayed record lands again under the same eventId; show it once.
    views.push({
      name,
      description: `change records of table ${decodeSegment(table)}`,
      sql: `CREATE VIEW ${name} AS SELECT * FROM ${readNdjson(dir)} QUALIFY row_number() OVER (PARTITION BY eventId ORDER BY seq) = 1`,
    });
  }
  for (const type of await subdirectories(join(lake, 'fhir'))) {
    const dir = join(lake, 'fhir', type);
    if (!(await hasData(dir))) continue;
    const base = `fhir_${viewIdentifier(type)}`;
    // A window exported twice (a failed run retried) lands the same version twice: keep one per (id, version, tombstone).
    views.push({
      name: `${base}_history`,
      description: `every exported version of ${type}, tombstones included`,
      sql: `CREATE VIEW ${base}_history AS SELECT * EXCLUDE (_deleted) FROM (
          SELECT *, coalesce(TRY_CAST(to_json(h)->>'_tombstone' AS BOOLEAN), false) AS _deleted FROM ${readNdjson(dir)} AS h)
        QUALIFY row_number() OVER (PARTITION BY id, CAST(meta.versionId AS VARCHAR), _deleted ORDER BY CAST(meta.lastUpdated AS VARCHAR)) = 1`,
    });
    views.push({
      name: base,
      description: `current ${type} resources (latest version, deleted ones removed)`,
      // The latest line per id wins (a tombstone wins a tie); a tombstone as latest hides the resource.
      // Column `_tombstone` exists only when something was deleted, so it is read through to_json.
      sql: `CREATE VIEW ${base} AS SELECT * EXCLUDE (_rank, _deleted) FROM (
          SELECT *, row_number() OVER (PARTITION BY id ORDER BY CAST(meta.lastUpdated AS VARCHAR) DESC, _deleted DESC, TRY_CAST(meta.versionId AS BIGINT) DESC NULLS LAST) AS _rank
          FROM (SELECT *, coalesce(TRY_CAST(to_json(h)->>'_tombstone' AS BOOLEAN), false) AS _deleted FROM ${base}_history AS h))
        WHERE _rank = 1 AND NOT _deleted`,
    });
  }
  if (await hasData(join(lake, 'events'))) {
    views.push({
      name: 'events',
      description: 'events published to the local bus',
      sql: `CREATE VIEW events AS SELECT * FROM ${readNdjson(join(lake, 'events'))}`,
    });
  }
  if (await hasData(join(lake, '_errors'))) {
    views.push({
      name: 'errors',
      description: 'records that could not be processed, with the reason',
      sql: `CREATE VIEW errors AS SELECT * FROM ${readNdjson(join(lake, '_errors'))}`,
    });
  }
  return views;
}
