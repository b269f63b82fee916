import { ExportProtocolError } from './errors.js';
import type { ManifestFile, ObjectLocation } from './types.js';

/** Manifest lists rebuilt from the objects in an export job's folder. */
export interface ListedManifestFiles {
  output: ManifestFile[];
  deleted: ManifestFile[];
  error: ManifestFile[];
}

const RESOURCE_TYPE = /^[A-Z][A-Za-z]+$/;

/**
 * Rebuilds `output[]`, `deleted[]` and `error[]` from the keys under an export job's folder, for a status answer that
 * has no `output[]`. The type comes from the key: `<Type>/<Type>-….ndjson` (HealthLake's layout) or `<Type>-….ndjson`
 * directly in the folder; `_deleted/…` (Bundles of deletions) and `_errors/…` (OperationOutcomes) as the embedded
 * store writes them. Objects that are not `.ndjson` (a `manifest.json`, folder markers) are skipped; an `.ndjson` file
 * whose type cannot be told is a protocol error, so no exported file is ever silently left out.
 *
 * @example
 * manifestFilesFromListing({ bucket: 'b', key: 'fhir/ds-FHIR_EXPORT-j/' }, ['fhir/ds-FHIR_EXPORT-j/Patient/Patient-0.ndjson'])
 * // { output: [{ type: 'Patient', url: 's3://b/fhir/ds-FHIR_EXPORT-j/Patient/Patient-0.ndjson' }], deleted: [], error: [] }
 */
export function manifestFilesFromListing(folder: ObjectLocation, keys: Iterable<string>): ListedManifestFiles {
  const prefix = folder.key.endsWith('/') || folder.key === '' ? folder.key : `${folder.key}/`;
  const files: ListedManifestFiles = { output: [], deleted: [], error: [] };
  for (const key of [...keys].sort()) {
    if (!key.startsWith(prefix) || !key.endsWith('.ndjson')) continue;
    const relative = key.slice(prefix.length);
    const url = `s3://${folder.bucket}/${key}`;
    const [first = '', ...rest] = relative.split('/');
    if (first === '_deleted') files.deleted.push({ type: 'Bundle', url });
    else if (first === '_errors') files.error.push({ type: 'OperationOutcome', url });
    else files.output.push({ type: typeOf(first, rest, key), url });
  }
  return files;
}

function typeOf(first: string, rest: string[], key: string): string {
  // `<Type>/…` (HealthLake) or a flat `<Type>-<n>.ndjson`.
  const candidate = rest.length > 0 ? first : (first.split(/[-.]/)[0] ?? '');
  if (RESOURCE_TYPE.test(candidate)) return candidate;
  throw new ExportProtocolError(`cannot tell the resource type of export file ${key.slice(0, 200)}`);
}
