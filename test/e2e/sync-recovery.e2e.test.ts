import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, filesUnder, runCli, startUp, tempDir, type CliResult } from './cli-harness.js';

/** `tributary <args>` with extra environment (fault hooks); also reports the child's pid and signal. */
function runWithEnv(
  args: string[],
  env: Record<string, string>,
): Promise<CliResult & { pid: number; signal: NodeJS.Signals | null }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, NO_COLOR: '1', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code, signal, stdout, stderr, pid: child.pid! }));
  });
}

/** A stack trace or the dynalite collision the issue saw: never acceptable on a CLI's stderr. */
const CRASH = /\n\s+at |Iterator is not open|ModuleError/;

/**
 * A tiny FHIR Bulk Data v2 server on 127.0.0.1: `stall` keeps every job IN_PROGRESS (202) forever; otherwise a job
 * completes with one Patient and one error file (OperationOutcome), i.e. COMPLETED_WITH_ERRORS.
 */
async function bulkDataServer(mode: 'stall' | 'with-errors'): Promise<{ baseUrl: string; close: () => Promise<void> }> {
  let base = '';
  const server: Server = createServer((request, response) => {
    const url = request.url ?? '';
    if (url.includes('$export')) {
      response.writeHead(202, { 'content-location': `${base}/jobs/1` }).end();
    } else if (url.startsWith('/fhir/jobs/1')) {
      if (mode === 'stall') {
        response.writeHead(202, { 'x-progress': 'working', 'retry-after': '1' }).end();
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          transactionTime: '2026-03-04T05:06:07.089Z',
          request: `${base}/$export`,
          requiresAccessToken: false,
          output: [{ type: 'Patient', url: `${base}/files/Patient-1.ndjson` }],
          error: [{ type: 'OperationOutcome', url: `${base}/files/errors-1.ndjson` }],
        }),
      );
    } else if (url.endsWith('/files/Patient-1.ndjson')) {
      response
        .writeHead(200, { 'content-type': 'application/fhir+ndjson' })
        .end('{"resourceType":"Patient","id":"p1","meta":{"versionId":"1","lastUpdated":"2026-03-04T00:00:00Z"}}\n');
    } else if (url.endsWith('/files/errors-1.ndjson')) {
      response.writeHead(200, { 'content-type': 'application/fhir+ndjson' }).end(
        `${JSON.stringify({
          resourceType: 'OperationOutcome',
          issue: [{ severity: 'error', code: 'exception', diagnostics: 'Observation export failed' }],
        })}\n`,
      );
    } else response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  base = `http://127.0.0.1:${address.port}/fhir`;
  return {
    baseUrl: base,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

interface RunRow {
  runId: string;
  status: string;
  error?: string;
  errors: number;
  counts: Record<string, { resources: number; deleted: number; errors: number }>;
}

describe('standalone sync: crashes, concurrency, skips and export errors through the CLI', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let config: string;
  beforeAll(async () => {
    dir = await tempDir('e2e-sync-recovery');
    config = join(dir.path, 'config.json');
    await writeFile(
      config,
      JSON.stringify({ tables: [], export: { initialCheckDelaySeconds: 0.2, maxCheckDelaySeconds: 1 } }),
    );
  });
  afterAll(async () => dir.cleanup());

  it('kill -9 during ProcessFiles: the next sync takes over the dead run at once, says so, removes orphaned temp files and completes (exit 0)', async () => {
    const state = join(dir.path, 'crash');
    const cli = (...args: string[]) => runCli([...args, '--dir', state, '--config', config]);
    const seed = await cli('seed', '--patients', '2', '--no-dynamodb');
    expect(seed.code, seed.stderr).toBe(0);

    const crashed = await runWithEnv(['sync', '--dir', state, '--config', config], {
      TRIBUTARY_FAULTS: 'export.process-file',
    });
    expect(crashed.signal, crashed.stderr).toBe('SIGKILL');
    expect(crashed.stderr).toContain('fault hook export.process-file');

    // What a writer killed between write and rename leaves behind (named with the dead process's pid).
    const partition = join(state, 'lake', 'fhir', 'Encounter', 'year=2026', 'month=01', 'day=01');
    await mkdir(partition, { recursive: true });
    await writeFile(join(partition, `.tmp-${crashed.pid}-0123456789ab`), 'partial');

    const next = await cli('sync');
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).not.toMatch(CRASH);
    const dead = `sync (pid ${crashed.pid} on ${hostname()})`;
    expect(next.stderr).toContain(`took over the state directory from ${dead}, which is no longer running`);
    expect(next.stderr).toMatch(
      new RegExp(`export: took over the lock of run (export-\\S+): its owner ${dead.replace(/[()]/g, '\\$&')} died`),
    );
    expect(next.stderr).toContain('removed 1 orphaned temporary file(s)');
    expect((await filesUnder(join(state, 'lake'))).filter((f) => f.includes('.tmp-'))).toEqual([]);
    expect(next.stderr).toMatch(/export run \S+: COMPLETED, \d+ resources/);

    const runs = await cli('runs', '--format', 'json');
    expect(runs.code, runs.stderr).toBe(0);
    const [latest, orphan] = JSON.parse(runs.stdout) as RunRow[];
    expect(latest!.status).toBe('COMPLETED');
    expect(orphan!.status).toBe('FAILED');
    expect(orphan!.error).toMatch(/^Tributary\.OwnerDied: the process running this execution \(sync:/);
    // Every landed FHIR file is attributable to its export.
    const landed = (await filesUnder(join(state, 'lake', 'fhir'))).map((f) => f.split('/').pop()!);
    expect(landed.length).toBeGreaterThan(0);
    for (const name of landed) expect(name).toMatch(/^\d{8}T\d{6}\.\d{3}Z_/);
  }, 120_000);

  it('a second standalone sync while a live process holds the state directory: one clear line and exit 3, never a stack trace', async () => {
    const state = join(dir.path, 'busy');
    await mkdir(state, { recursive: true });
    // This test process is alive: as the holder it stands for a long sync that is still running.
    await writeFile(join(state, 'tributary.lock'), `sync:${hostname()}:${process.pid}\n`);
    const second = await runCli(['sync', '--dir', state, '--config', config]);
    expect(second.code).toBe(3);
    expect(second.stderr.trim()).toBe(
      `tributary sync: skipped: state directory ${state} is in use by sync (pid ${process.pid} on ${hostname()}); try again when it finishes`,
    );

    // A second `up` is refused the same way (exit 3, as the README's table says), not with a usage error.
    await writeFile(join(state, 'tributary.lock'), `up:${hostname()}:${process.pid}\n`);
    await writeFile(join(state, 'endpoints.json'), JSON.stringify({ pid: process.pid }));
    const secondUp = await runCli(['up', '--dir', state, '--config', config]);
    expect(secondUp.code, secondUp.stderr).toBe(3);
    expect(secondUp.stderr).toContain(`state directory ${state} is in use by up (pid ${process.pid} on ${hostname()})`);

    // Two at once for real: whichever loses the race says so (exit 3); neither crashes.
    const racing = join(dir.path, 'race');
    const both = await Promise.all([
      runCli(['sync', '--dir', racing, '--config', config]),
      runCli(['sync', '--dir', racing, '--config', config]),
    ]);
    for (const result of both) {
      expect([0, 3], result.stderr).toContain(result.code);
      expect(result.stderr).not.toMatch(CRASH);
      if (result.code === 3) expect(result.stderr).toMatch(/skipped: state directory .* is in use by sync \(pid \d+/);
    }
    expect(both.some((result) => result.code === 0)).toBe(true);
  }, 120_000);

  it('sync while a live run holds the export lock (through a running up): prints which run and owner, exits 3', async () => {
    const server = await bulkDataServer('stall');
    const state = join(dir.path, 'skip');
    const stallConfig = join(dir.path, 'stall.json');
    await writeFile(
      stallConfig,
      JSON.stringify({
        tables: [],
        export: {
          initialCheckDelaySeconds: 0.2,
          maxCheckDelaySeconds: 1,
          source: { type: 'bulk-data', baseUrl: server.baseUrl },
        },
      }),
    );
    const up = await startUp(state, ['--config', stallConfig]);
    try {
      const cli = (...args: string[]) => runCli([...args, '--dir', state, '--config', stallConfig]);
      // up's schedule starts a run at once; it stays RUNNING (the server never finishes the job).
      let holder: RunRow | undefined;
      for (let i = 0; i < 200 && !holder; i++) {
        const runs = await cli('runs', '--format', 'json');
        holder = (JSON.parse(runs.stdout || '[]') as RunRow[]).find((run) => run.status === 'RUNNING');
      }
      expect(holder, up.output()).toBeDefined();
      const sync = await cli('sync');
      expect(sync.code, sync.stderr).toBe(3);
      expect(sync.stderr).toContain(
        `export: skipped: run ${holder!.runId} is running (owner up (pid ${up.child.pid} on ${hostname()}))`,
      );
      const runs = JSON.parse((await cli('runs', '--format', 'json')).stdout) as Array<RunRow & { error?: string }>;
      expect(runs.find((run) => run.status === 'SKIPPED')).toBeDefined();
    } finally {
      await up.stop();
      await server.close();
    }
  }, 120_000);

  it('an export with error files (policy continue): COMPLETED_WITH_ERRORS, counts in runs, error lines in the lake, event, exit 4', async () => {
    const server = await bulkDataServer('with-errors');
    const state = join(dir.path, 'errors');
    const errorsConfig = join(dir.path, 'errors.json');
    await writeFile(
      errorsConfig,
      JSON.stringify({
        tables: [],
        export: {
          initialCheckDelaySeconds: 0.2,
          maxCheckDelaySeconds: 1,
          completedWithErrors: 'continue',
          source: { type: 'bulk-data', baseUrl: server.baseUrl },
        },
      }),
    );
    try {
      const cli = (...args: string[]) => runCli([...args, '--dir', state, '--config', errorsConfig]);
      const sync = await cli('sync');
      expect(sync.code, sync.stderr).toBe(4);
      expect(sync.stderr).toMatch(
        /COMPLETED_WITH_ERRORS, 1 resources and 0 deletions landed; errors by type: OperationOutcome 1/,
      );
      const [run] = JSON.parse((await cli('runs', '--format', 'json')).stdout) as RunRow[];
      expect(run).toMatchObject({ status: 'COMPLETED_WITH_ERRORS', errors: 1 });
      expect(run!.counts.OperationOutcome?.errors).toBe(1);
      expect(run!.counts.Patient?.resources).toBe(1);

      const lake = join(state, 'lake');
      const errorFiles = await filesUnder(join(lake, '_errors', 'fhir-export'));
      expect(errorFiles).toHaveLength(1);
      expect(errorFiles[0]!.split('/').pop()).toMatch(/^20260304T050607\.089Z_/);
      const line = JSON.parse(
        gunzipSync(await readFile(errorFiles[0]!))
          .toString('utf8')
          .trim(),
      ) as {
        runId: string;
        outcome: { resourceType: string };
      };
      expect(line).toMatchObject({ runId: run!.runId, outcome: { resourceType: 'OperationOutcome' } });
      const events = await filesUnder(join(lake, 'events', 'ExportRunCompletedWithErrors'));
      expect(events).toHaveLength(1);
      expect(gunzipSync(await readFile(events[0]!)).toString('utf8')).toContain(run!.runId);
    } finally {
      await server.close();
    }
  }, 120_000);
});
