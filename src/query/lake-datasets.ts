import { readdirSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import type { LakeDataset } from './types.js';

/** Turns a dataset name into a safe, lower-case SQL identifier. */
export function viewIdentifier(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9_]/g, '_');
}

/** A partition/table folder name as written (percent-encoded by the lake); a malformed escape is shown as is. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * The entries of a folder (with `recursive`, of its whole tree); none when it cannot be read. Synchronous on purpose:
 * one call lists a tree of thousands of partition folders several times faster than the promise API.
 *
 * @example
 * listEntries('.tributary/lake/changes', false).map((e) => e.name) // ['visits']
 */
export function listEntries(dir: string, recursive: boolean): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true, recursive });
  } catch {
    return [];
  }
}

async function subdirectories(dir: string): Promise<string[]> {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
      .map((e) => e.name)
      .sort();
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return [];
    throw error;
  }
}

/**
 * Every `.ndjson.gz` file below a folder, sorted; none when the folder does not exist.
 *
 * @example
 * await lakeFiles('.tributary/lake/fhir/Patient') // ['/…/year=2024/…/a.ndjson.gz']
 */
export async function lakeFiles(dir: string): Promise<string[]> {
  return listEntries(dir, true)
    .filter((e) => e.isFile() && e.name.endsWith('.ndjson.gz'))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/**
 * Finds the datasets of a lake directory: one per change-stream table and FHIR resource type with files,
 * plus `events` and `errors`, which are always there (maybe without files).
 *
 * @example
 * (await discoverDatasets('.tributary/lake')).map((d) => d.name) // ['changes_visits', 'fhir_patient', 'events', 'errors']
 */
export async function discoverDatasets(lake: string): Promise<LakeDataset[]> {
  const datasets: LakeDataset[] = [];
  for (const table of await subdirectories(join(lake, 'changes'))) {
    const dir = join(lake, 'changes', table);
    const files = await lakeFiles(dir);
    const label = decodeSegment(table);
    if (files.length > 0)
      datasets.push({ kind: 'changes', name: `changes_${viewIdentifier(label)}`, label, dir, files });
  }
  for (const type of await subdirectories(join(lake, 'fhir'))) {
    const dir = join(lake, 'fhir', type);
    const files = await lakeFiles(dir);
    if (files.length > 0)
      datasets.push({ kind: 'fhir', name: `fhir_${viewIdentifier(type)}`, label: type, dir, files });
  }
  for (const [kind, folder] of [
    ['events', 'events'],
    ['errors', '_errors'],
  ] as const) {
    const dir = join(lake, folder);
    datasets.push({ kind, name: kind, label: kind, dir, files: await lakeFiles(dir) });
  }
  return datasets;
}
