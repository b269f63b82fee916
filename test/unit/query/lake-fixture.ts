import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

/** A temporary lake directory the tests write gzip NDJSON files into. */
export interface TestLake {
  dir: string;
  /** Writes objects as gzip NDJSON at a path relative to the lake. */
  put: (path: string, rows: unknown[]) => void;
  /** Writes raw lines (e.g. with numbers JSON.stringify cannot hold) as gzip NDJSON. */
  putLines: (path: string, lines: string[]) => void;
  /** Writes raw bytes. */
  putBytes: (path: string, bytes: Buffer) => void;
  remove: () => void;
}

/** Creates an empty lake in the temp directory. */
export function testLake(): TestLake {
  const dir = mkdtempSync(join(tmpdir(), 'lake-'));
  const putBytes = (path: string, bytes: Buffer) => {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), bytes);
  };
  const putLines = (path: string, lines: string[]) => putBytes(path, gzipSync(lines.map((l) => `${l}\n`).join('')));
  return {
    dir,
    put: (path, rows) =>
      putLines(
        path,
        rows.map((r) => JSON.stringify(r)),
      ),
    putLines,
    putBytes,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A valid gzip NDJSON file cut short, as a crashed writer or a partial copy leaves it. */
export function truncatedGzip(rows: unknown[]): Buffer {
  const whole = gzipSync(rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
  return whole.subarray(0, Math.floor(whole.length / 2));
}
