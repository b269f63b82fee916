import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Column, LakeWarning } from './types.js';

/** File of the cache, in the lake directory (hidden: no dataset or lake reader lists dot files). */
export const SCHEMA_CACHE_FILE = '.query-schemas.json';
/** Bumped whenever what is cached, or how it is detected, changes: an older file is then ignored. */
const FORMAT = 1;

/** A file as the cache knows it: size and modification time, so a file rewritten in place is noticed. */
export type FileStamp = [size: number, mtimeMs: number];

/** What was detected for one dataset, for one exact file listing. */
export interface CachedSchema {
  /** Every file of the dataset at detection time, relative to the lake, with its stamp. */
  files: Record<string, FileStamp>;
  /** The columns detection found (before the required ones are added). */
  columns: Column[];
  /** The readable files (relative), when some were left out; `null` when all were readable. */
  readable: string[] | null;
  /** The warnings of the files left out. */
  warnings: LakeWarning[];
}

interface CacheFile {
  format: number;
  datasets: Record<string, CachedSchema>;
}

/**
 * The stamps of files, keyed by their path relative to the lake; files that vanished are left out.
 *
 * @example
 * fileStamps('/lake', ['/lake/changes/visits/a.ndjson.gz']) // { 'changes/visits/a.ndjson.gz': [1234, 1767225600000] }
 */
export function fileStamps(lake: string, files: readonly string[]): Record<string, FileStamp> {
  const out: Record<string, FileStamp> = {};
  for (const file of files) {
    const stat = statSync(file, { throwIfNoEntry: false });
    if (stat) out[relative(lake, file)] = [stat.size, stat.mtimeMs];
  }
  return out;
}

/** How a listing compares to a cached one. */
export type ListingChange = { kind: 'same' } | { kind: 'added'; added: string[] } | { kind: 'changed' };

/**
 * Compares a dataset's current files with the cached listing: the same files, only files added (the old ones
 * unchanged), or anything else (a file removed or rewritten).
 *
 * @example
 * compareListing({ a: [1, 1] }, { a: [1, 1], b: [2, 2] }) // { kind: 'added', added: ['b'] }
 */
export function compareListing(
  cached: Readonly<Record<string, FileStamp>>,
  current: Readonly<Record<string, FileStamp>>,
): ListingChange {
  const added: string[] = [];
  let kept = 0;
  for (const [file, [size, mtime]] of Object.entries(current)) {
    const old = cached[file];
    if (!old) added.push(file);
    else if (old[0] !== size || old[1] !== mtime) return { kind: 'changed' };
    else kept += 1;
  }
  if (kept !== Object.keys(cached).length) return { kind: 'changed' };
  return added.length === 0 ? { kind: 'same' } : { kind: 'added', added };
}

/**
 * True when the columns detected over added files change nothing: each is already cached, with the same type. Then
 * detection over every file would give the cached columns again, and the cache is extended instead of redone.
 *
 * @example
 * addsNothing([['id', T.varchar]], [['id', T.varchar], ['n', T.bigint]]) // true
 */
export function addsNothing(detected: readonly Column[], cached: readonly Column[]): boolean {
  const known = new Map(cached.map(([name, type]) => [name, JSON.stringify(type)]));
  return detected.every(([name, type]) => known.get(name) === JSON.stringify(type));
}

/**
 * Detected dataset schemas, kept in `<lake>/.query-schemas.json` so opening the views does not read every file to
 * detect them again: an entry holds for the exact file listing (paths, sizes, modification times) it was detected on.
 * Reading and writing are best effort: a missing, corrupt or unwritable cache only costs a detection.
 *
 * @example
 * const cache = SchemaCache.load('/lake');
 * const hit = cache.get('changes/visits');
 * cache.set('changes/visits', entry);
 * cache.save();
 */
export class SchemaCache {
  private changed = false;

  private constructor(
    private readonly lake: string,
    private readonly datasets: Record<string, CachedSchema>,
  ) {}

  public static load(lake: string): SchemaCache {
    try {
      const parsed = JSON.parse(readFileSync(join(lake, SCHEMA_CACHE_FILE), 'utf8')) as Partial<CacheFile>;
      if (parsed.format === FORMAT && parsed.datasets && typeof parsed.datasets === 'object')
        return new SchemaCache(lake, parsed.datasets);
    } catch {
      // No cache yet, or unreadable: detect.
    }
    return new SchemaCache(lake, {});
  }

  /** The entry of a dataset (its folder relative to the lake). */
  public get(dataset: string): CachedSchema | undefined {
    const entry = this.datasets[dataset];
    return entry && typeof entry.files === 'object' && Array.isArray(entry.columns) ? entry : undefined;
  }

  public set(dataset: string, entry: CachedSchema): void {
    this.datasets[dataset] = entry;
    this.changed = true;
  }

  /** Drops the entries of datasets that are gone (a table or type folder removed), so the file does not only grow. */
  public retain(datasets: ReadonlySet<string>): void {
    for (const key of Object.keys(this.datasets))
      if (!datasets.has(key)) {
        delete this.datasets[key];
        this.changed = true;
      }
  }

  /** Writes the cache if an entry changed (atomically: temporary file, then rename); never throws. */
  public save(): void {
    if (!this.changed || !existsSync(this.lake)) return;
    const file = join(this.lake, SCHEMA_CACHE_FILE);
    const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      writeFileSync(temporary, JSON.stringify({ format: FORMAT, datasets: this.datasets } satisfies CacheFile));
      renameSync(temporary, file);
      this.changed = false;
    } catch {
      // A read-only lake: query without a cache.
      try {
        unlinkSync(temporary);
      } catch {
        // Nothing was written.
      }
    }
  }
}
