import { createReadStream } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { safeReason } from './errors.js';
import { lakeFiles } from './lake-datasets.js';

/** A lake file that cannot be read, and why (the reason names no values). */
export interface UnreadableFile {
  /** Absolute path. */
  file: string;
  reason: string;
}

/** Folder below the lake where `tributary lake check --quarantine` moves unreadable files. */
export const QUARANTINE_DIR = '_quarantine';

const quote = (text: string) => `'${text.split('\\').join('/').replace(/'/g, "''")}'`;

/**
 * Reads one file the way the views do (gzip, then one JSON value per line); the reason when that fails.
 *
 * @example
 * await probeJson(connection, '/lake/fhir/Patient/…/a.ndjson.gz') // undefined, or 'Invalid Input Error: Malformed JSON…'
 */
export async function probeJson(connection: DuckDBConnection, file: string): Promise<string | undefined> {
  try {
    await connection.run(`SELECT count(*) FROM read_json_objects(${quote(file)}, format = 'newline_delimited')`);
    return undefined;
  } catch (error) {
    return safeReason(error);
  }
}

/** Full gzip check (DuckDB does not verify the CRC or the trailer). */
async function probeGzip(file: string): Promise<string | undefined> {
  try {
    await pipeline(
      createReadStream(file),
      createGunzip(),
      new Writable({ write: (_chunk, _encoding, done) => done() }),
    );
    return undefined;
  } catch (error) {
    return `gzip: ${safeReason(error)}`;
  }
}

/**
 * Checks every `.ndjson.gz` file of a lake (the quarantine excluded): a complete gzip stream, and one JSON
 * value per line.
 *
 * @example
 * const bad = await checkLake('.tributary/lake'); // [{ file: '/…/a.ndjson.gz', reason: 'gzip: unexpected end of file' }]
 */
export async function checkLake(lake: string): Promise<{ checked: number; unreadable: UnreadableFile[] }> {
  const files = (await lakeFiles(lake)).filter((f) => !relative(lake, f).startsWith(QUARANTINE_DIR));
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const unreadable: UnreadableFile[] = [];
  try {
    for (const file of files) {
      const reason = (await probeGzip(file)) ?? (await probeJson(connection, file));
      if (reason) unreadable.push({ file, reason });
    }
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  return { checked: files.length, unreadable };
}

/**
 * Moves a lake file to `<lake>/_quarantine/<same relative path>`, out of every view; returns the new path.
 *
 * @example
 * await quarantine('/lake', '/lake/fhir/Patient/x.ndjson.gz') // '/lake/_quarantine/fhir/Patient/x.ndjson.gz'
 */
export async function quarantine(lake: string, file: string): Promise<string> {
  const target = join(lake, QUARANTINE_DIR, relative(lake, file));
  await mkdir(dirname(target), { recursive: true });
  await rename(file, target);
  return target;
}
