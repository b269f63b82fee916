import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';

export const BIN = resolve(import.meta.dirname, '../../bin/tributary.js');

/** Result of one CLI run. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `tributary <args>` to completion in a child process. */
export function runCli(args: string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

/** Starts `tributary up` and resolves once `endpoints.json` is written. */
export async function startUp(
  dir: string,
  extra: string[] = [],
  env: Record<string, string> = {},
): Promise<{
  child: ChildProcess;
  endpoints: Record<string, string>;
  output: () => string;
  stop: () => Promise<number | null>;
  /** Resolves with the exit code and signal once the process has ended (e.g. at a fault hook). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}> {
  const child = spawn(process.execPath, [BIN, 'up', '--dir', dir, ...extra], {
    env: { ...process.env, NO_COLOR: '1', ...env },
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.on('close', (code, signal) => r({ code, signal })),
  );
  const exited = ended.then(({ code }) => code);
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const endpoints = JSON.parse(await readFile(join(dir, 'endpoints.json'), 'utf8')) as Record<string, string>;
      // A killed `up` leaves its endpoints.json behind: wait for this child's own.
      if (endpoints.control && Number(endpoints.pid) === child.pid) {
        return {
          child,
          endpoints,
          exited: ended,
          output: () => output,
          stop: async () => {
            child.kill('SIGTERM');
            return exited;
          },
        };
      }
    } catch {
      // not yet
    }
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`tributary up did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function tempDir(prefix: string): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `tributary-${prefix}-`));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

/** A DocumentClient on the embedded DynamoDB endpoint (any credentials work). Call `destroy()` when done. */
export function localDocumentClient(endpoint: string | undefined): DynamoDBDocumentClient {
  if (!endpoint) throw new Error('endpoints.json has no dynamodb endpoint');
  return DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }),
  );
}

/** Runs `tributary query --dir <state> --config <config> --format json <sql>`. */
export function queryJson(state: string, config: string, sql: string): Promise<CliResult> {
  return runCli(['query', '--dir', state, '--config', config, '--format', 'json', sql]);
}

/** Every file below `dir` (absolute paths), or none if it does not exist. */
export async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const entry of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      if (entry.isDirectory()) await walk(join(d, entry.name));
      else out.push(join(d, entry.name));
    }
  };
  await walk(dir);
  return out;
}

/** The parsed lines of every `.ndjson.gz` file below `dir` (none if it does not exist). */
export async function gzLines<T = Record<string, unknown>>(dir: string): Promise<T[]> {
  const files = (await filesUnder(dir)).filter((f) => f.endsWith('.ndjson.gz'));
  const texts = await Promise.all(files.map(async (f) => gunzipSync(await readFile(f)).toString('utf8')));
  return texts.flatMap((text) =>
    text
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as T),
  );
}
