import { DuckDBInstance } from '@duckdb/node-api';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { InMemoryLedgerStore } from '../../../src/fhir-export/ledger-store.js';
import { RunLedger } from '../../../src/fhir-export/run-ledger.js';
import type { ObjectBody } from '../../../src/ports/object-store.js';
import { DEFAULT_VIEW_FILES, loadViewFiles } from '../../../src/views/lake/load-views.js';
import { updateViewsOnRunSucceeded } from '../../../src/views/lake/run-succeeded.js';
import { MemoryObjectStore } from '../lake/memory-store.js';

/** The in-memory lake, also taking streamed bodies (the Parquet delta is put as a file stream). */
class StreamingMemoryStore extends MemoryObjectStore {
  public override async put(key: string, body: ObjectBody): Promise<void> {
    if (typeof body === 'string') return super.put(key, Buffer.from(body));
    if (body instanceof Uint8Array) return super.put(key, body);
    const chunks: Buffer[] = [];
    for await (const chunk of body as AsyncIterable<Buffer>) chunks.push(Buffer.from(chunk));
    return super.put(key, Buffer.concat(chunks));
  }
}

const views = loadViewFiles(DEFAULT_VIEW_FILES).filter((view) => view.name === 'patient');
const TRANSACTION_TIME = '2024-03-01T10:00:00.000Z';
const TAG = '20240301T100000.000Z';
const scratch = mkdtempSync(join(tmpdir(), 'tributary-run-succeeded-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function lakeWithPatients(): StreamingMemoryStore {
  const store = new StreamingMemoryStore();
  const lines = ['p-1', 'p-2', 'p-3'].map((id) =>
    JSON.stringify({ resourceType: 'Patient', id, gender: 'female', name: [{ family: `F-${id}` }] }),
  );
  void store.put(
    `fhir/Patient/year=2024/month=03/day=01/${TAG}_job-1_Patient_ab-0000.ndjson.gz`,
    gzipSync(lines.join('\n') + '\n'),
  );
  return store;
}

async function ledgerWith(status: 'COMPLETED' | 'FAILED' | 'RUNNING'): Promise<RunLedger> {
  const ledger = new RunLedger({
    store: new InMemoryLedgerStore(),
    executions: { statusOf: () => Promise.reject(new Error('not asked')) },
  });
  const executionArn = 'arn:aws:states:us-east-1:123456789012:execution:tributary-export:run-7';
  await ledger.acquire({ executionArn, executionName: 'run-7' });
  if (status === 'COMPLETED')
    await ledger.complete({
      runId: 'run-7',
      executionArn,
      transactionTime: TRANSACTION_TIME,
      jobId: 'job-1',
      results: [],
    });
  if (status === 'FAILED') await ledger.fail({ runId: 'run-7', executionArn, error: 'X', cause: 'y' });
  return ledger;
}

const succeeded = (name: string, status = 'SUCCEEDED') => ({
  source: 'aws.states',
  'detail-type': 'Step Functions Execution Status Change',
  detail: { executionArn: `arn:aws:states:us-east-1:123456789012:execution:tributary-export:${name}`, name, status },
});

describe('updateViewsOnRunSucceeded (the update-views Lambda)', () => {
  it('a SUCCEEDED event for a COMPLETED run writes one Parquet delta per view under views/<name>/run=<tag>/', async () => {
    const store = lakeWithPatients();
    const ledger = await ledgerWith('COMPLETED');
    const logged: Array<Record<string, unknown>> = [];
    const result = await updateViewsOnRunSucceeded(succeeded('run-7'), {
      getRun: (id) => ledger.getRun(id),
      store,
      views,
      scratchDir: scratch,
      log: (_message, fields) => logged.push(fields),
    });
    expect(result).toMatchObject({ runId: 'run-7', status: 'COMPLETED' });
    expect(result.updates).toMatchObject([{ view: 'patient', rows: 3, keys: 3, deleted: 0, errors: 0 }]);
    const key = `views/patient/run=${TAG}/patient.parquet`;
    expect(store.puts).toContain(key);
    const file = join(scratch, 'delta.parquet');
    writeFileSync(file, store.objects.get(key)!);
    const db = await DuckDBInstance.create(':memory:');
    const connection = await db.connect();
    const reader = await connection.runAndReadAll(
      `SELECT _resource_key FROM read_parquet('${file}') WHERE NOT _marker ORDER BY 1`,
    );
    expect(reader.getRows().map((row) => row[0])).toEqual(['Patient/p-1', 'Patient/p-2', 'Patient/p-3']);
    connection.closeSync();
    db.closeSync();
    // Names and counts only: no resource id or value reaches the log.
    expect(JSON.stringify(logged)).not.toMatch(/p-1|F-p/);
  });

  it('a run that did not complete, an unknown run or a non-SUCCEEDED event writes nothing', async () => {
    for (const [status, event, skipped] of [
      ['RUNNING', succeeded('run-7'), 'run RUNNING'],
      ['FAILED', succeeded('run-7'), 'run FAILED'],
      ['COMPLETED', succeeded('run-8'), 'no such run in the ledger'],
      ['COMPLETED', succeeded('run-7', 'FAILED'), 'execution FAILED'],
    ] as const) {
      const store = lakeWithPatients();
      const ledger = await ledgerWith(status);
      const result = await updateViewsOnRunSucceeded(event, {
        getRun: (id) => ledger.getRun(id),
        store,
        views,
        scratchDir: scratch,
      });
      expect(result.skipped, `${status} ${event.detail.name} ${event.detail.status}`).toBe(skipped);
      expect(result.updates).toEqual([]);
      expect(store.puts.filter((key) => key.startsWith('views/'))).toEqual([]);
    }
  });
});
