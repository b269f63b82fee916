import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { lakeLayout } from '../../lake/layout.js';
import type { ObjectStore } from '../../ports/object-store.js';
import { parseJsonPreservingDecimals } from '../fhirpath/decimal.js';
import { runOfLakeFile } from './layout.js';

/** One resource line of the lake, with where it came from (file index in the input order, line number). */
export interface LakeResource {
  resource: Record<string, unknown>;
  /** The export run tag of its file (`YYYYMMDDTHHMMSS.mmmZ`), '' for older file names. */
  run: string;
  file: number;
  line: number;
}

/**
 * The lake files of a resource type, in export order (file name, which starts with the export's transactionTime,
 * then key); with `run`, only the files that run wrote.
 *
 * @example
 * await lakeFilesOf(store, 'Patient', '20240301T100000.000Z') // ['fhir/Patient/year=…/20240301T100000.000Z_…-0000.ndjson.gz']
 */
export async function lakeFilesOf(store: ObjectStore, resourceType: string, run?: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const { key } of store.list(lakeLayout.fhir(resourceType))) {
    if (!key.endsWith('.ndjson.gz')) continue;
    if (run !== undefined && runOfLakeFile(key) !== run) continue;
    keys.push(key);
  }
  const name = (key: string) => key.slice(key.lastIndexOf('/') + 1);
  return keys.sort((a, b) => (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Streams the resources of lake files one line at a time (flat memory). A line that is not a JSON object is
 * counted through `onUnreadable` (place only, never the line) and skipped.
 *
 * @example
 * for await (const { resource, run } of readLakeResources(store, files, { onUnreadable: () => n++ })) use(resource);
 */
export async function* readLakeResources(
  store: ObjectStore,
  files: readonly string[],
  options: { onUnreadable(file: string, line: number): void },
): AsyncGenerator<LakeResource> {
  for (let file = 0; file < files.length; file++) {
    const key = files[file]!;
    const run = runOfLakeFile(key);
    const lines = createInterface({ input: (await store.getStream(key)).pipe(createGunzip()), crlfDelay: Infinity });
    let line = 0;
    for await (const text of lines) {
      line += 1;
      if (text.trim() === '') continue;
      let resource: unknown;
      try {
        resource = parseJsonPreservingDecimals(text);
      } catch {
        options.onUnreadable(key, line);
        continue;
      }
      if (resource === null || typeof resource !== 'object' || Array.isArray(resource)) {
        options.onUnreadable(key, line);
        continue;
      }
      yield { resource: resource as Record<string, unknown>, run, file, line };
    }
  }
}

/**
 * A text key that orders versions of one resource as the `fhir_<type>` view does: export run, then
 * `meta.lastUpdated`, a tombstone winning a tie, then `meta.versionId` (numeric when numeric), then file and line
 * (one landing of a version exported twice). The greatest key is the current version.
 *
 * @example
 * versionKey({ resource: { meta: { lastUpdated: '2024-03-01T10:00:00Z' } }, run: '20240301T100000.000Z', file: 0, line: 1 })
 */
export function versionKey(entry: LakeResource): string {
  return `${versionOrder(entry.resource, entry.run)}|${String(entry.file).padStart(8, '0')}|${String(entry.line).padStart(10, '0')}`;
}

/**
 * {@link versionKey} without its file and line: run, `meta.lastUpdated`, tombstone, `meta.versionId`. Two versions
 * read in input order compare by this first; on a tie the one read later wins (it has the greater file and line).
 *
 * @example
 * versionOrder({ meta: { lastUpdated: '2024-03-01T10:00:00Z', versionId: '2' } }, '20240301T100000.000Z')
 */
export function versionOrder(resource: Record<string, unknown>, run: string): string {
  const meta = (resource.meta ?? {}) as { lastUpdated?: unknown; versionId?: unknown };
  const updated = typeof meta.lastUpdated === 'string' ? Date.parse(meta.lastUpdated) : NaN;
  const version = typeof meta.versionId === 'string' ? meta.versionId : '';
  return versionOrderOf(run, updated, resource._tombstone === true, version);
}

/**
 * {@link versionOrder} from its parts: `meta.lastUpdated` as epoch milliseconds (NaN when absent or not an instant),
 * `meta.versionId` ('' when absent).
 *
 * @example
 * versionOrderOf('20240301T100000.000Z', Date.parse('2024-03-01T10:00:00Z'), false, '2')
 */
export function versionOrderOf(run: string, updated: number, tombstone: boolean, version: string): string {
  const updatedPart = Number.isNaN(updated) ? ''.padStart(16, '0') : String(updated + 1e15).padStart(16, '0');
  const versionPart = /^\d{1,30}$/.test(version) ? `n${version.padStart(30, '0')}` : `t${version}`;
  return `${run.padEnd(20, ' ')}|${updatedPart}|${tombstone ? '1' : '0'}|${versionPart}`;
}
