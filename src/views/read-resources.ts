import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { parseJsonPreservingDecimals } from './fhirpath/decimal.js';

/** A line of input that is not a JSON resource. Carries its place and JSON's complaint, never the line. */
export interface UnreadableLine {
  file: string;
  line: number;
  reason: string;
}

const NDJSON_FILE = /\.(ndjson|jsonl)(\.gz)?$/i;

/**
 * The NDJSON files of an input: the file itself, or every `*.ndjson`/`*.jsonl` (gzip or not) under a directory,
 * recursively, in path order (so runs are repeatable).
 *
 * @example
 * await ndjsonFiles('export/') // ['export/Observation/part-0.ndjson.gz', 'export/Patient.ndjson']
 */
export async function ndjsonFiles(input: string): Promise<string[]> {
  if (!(await stat(input)).isDirectory()) return [input];
  const entries = await readdir(input, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && NDJSON_FILE.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

/**
 * Streams the resources of NDJSON files one line at a time (gzip detected by its magic bytes, not the name), so
 * memory stays flat. Decimals a double would change keep their text (see `parseJsonPreservingDecimals`).
 * A line that is not a JSON object goes to `onUnreadable` and the rest goes on.
 *
 * @example
 * for await (const resource of readResources(['Patient.ndjson.gz'], { onUnreadable: report })) use(resource);
 */
export async function* readResources(
  files: readonly string[],
  options: { onUnreadable(line: UnreadableLine): void },
): AsyncGenerator<unknown> {
  for (const file of files) {
    const gzip = await isGzip(file);
    const raw = createReadStream(file);
    const lines = createInterface({ input: gzip ? raw.pipe(createGunzip()) : raw, crlfDelay: Infinity });
    let number = 0;
    for await (const line of lines) {
      number += 1;
      if (line.trim() === '') continue;
      let resource: unknown;
      try {
        resource = parseJsonPreservingDecimals(line);
      } catch {
        // JSON.parse's message quotes the line, which may be PHI: say only what and where.
        options.onUnreadable({ file, line: number, reason: 'not JSON' });
        continue;
      }
      if (resource === null || typeof resource !== 'object' || Array.isArray(resource)) {
        options.onUnreadable({ file, line: number, reason: 'not a JSON object' });
        continue;
      }
      yield resource;
    }
  }
}

async function isGzip(file: string): Promise<boolean> {
  const stream = createReadStream(file, { start: 0, end: 1 });
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  const head = Buffer.concat(chunks);
  return head.length === 2 && head[0] === 0x1f && head[1] === 0x8b;
}
