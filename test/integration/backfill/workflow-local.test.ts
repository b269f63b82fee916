/**
 * Done-when of issue 13 (AWS side): the SAME backfill ASL the stack deploys (src/backfill/workflow.asl.json) runs on
 * the local state-machine executor against the embedded DynamoDB's export: ExportTableToPointInTime and DescribeExport
 * through an unmodified SDK client, the Distributed Map reading `manifest-files.json` as JSONL from the local S3
 * directory, each data file landed by the backfill Lambda's domain code.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BatchWriteItemCommand,
  PutItemCommand,
  ScanCommand,
  UpdateContinuousBackupsCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { createLocalBackfillWorkflow, type LocalBackfillEvent } from '../../../src/backfill/local-workflow.js';
import type { BackfillTableConfig } from '../../../src/backfill/workflow-tasks.js';
import { DirectoryObjectStore } from '../../../src/local/object-store/directory-object-store.js';
import type { StateMachineExecutor } from '../../../src/local/state-machine/index.js';
import { createTable, startHarness, type Harness } from '../dynamodb/harness.js';

const BUCKET = 'tributary-exports';
const ITEMS = 1000;

async function lakeFiles(lake: DirectoryObjectStore, prefix: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for await (const { key } of lake.list(prefix)) files.set(key, Buffer.from((await lake.get(key))!).toString('base64'));
  return files;
}

function linesOf(files: Map<string, string>): Array<Record<string, unknown>> {
  return [...files.values()].flatMap((b64) =>
    gunzipSync(Buffer.from(b64, 'base64'))
      .toString('utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>),
  );
}

describe('backfill workflow: the deployed ASL on the local executor, against the embedded DynamoDB export', () => {
  let h: Harness;
  let work: string;
  let tableName: string;
  let executor: StateMachineExecutor;
  let lake: DirectoryObjectStore;
  const events: LocalBackfillEvent[] = [];

  beforeAll(async () => {
    h = await startHarness();
    work = mkdtempSync(join(tmpdir(), 'tributary-backfill-wf-'));
    tableName = await createTable(h.ddb, 'NEW_AND_OLD_IMAGES', { rangeKey: true });
    await h.ddb.send(
      new UpdateContinuousBackupsCommand({
        TableName: tableName,
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      }),
    );
    for (let start = 0; start < ITEMS; start += 25) {
      await h.ddb.send(
        new BatchWriteItemCommand({
          RequestItems: {
            [tableName]: Array.from({ length: 25 }, (_, j) => {
              const i = start + j;
              return {
                PutRequest: {
                  Item: {
                    pk: { S: `p-${i % 40}` },
                    sk: { N: String(i) },
                    siteId: { S: ['north', 'south', 'east'][i % 3]! },
                    score: { N: i % 7 === 0 ? '12345678901234567890.5' : String(i) },
                    tags: { SS: [`t${i % 4}`, 'all'] },
                  },
                },
              };
            }),
          },
        }),
      );
    }
    // Point-in-time recovery needs a second of history before a whole-second snapshot.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    lake = new DirectoryObjectStore(join(work, 'lake'));
    const tables: BackfillTableConfig[] = [
      {
        name: 'visits',
        tableName,
        tableArn: `arn:aws:dynamodb:us-east-1:000000000000:table/${tableName}`,
        keyAttributes: ['pk', 'sk'],
        partitionBy: ['siteId', 'year', 'month'],
      },
    ];
    executor = createLocalBackfillWorkflow({
      dynamodb: h.ddb,
      bucketsDir: join(h.dir, 's3'),
      lake,
      tables,
      settings: { exportBucket: BUCKET, pollSeconds: 1 },
      dbFile: join(work, 'executions.sqlite'),
      onEvent: (event) => events.push(event),
    });
  });

  afterAll(async () => {
    await executor?.close();
    await h?.dispose();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('FULL: the lake holds the table (a Scan), and re-landing the export writes the same files', async () => {
    const started = await executor.startExecution({ name: 'full-1', input: { table: 'visits', mode: 'FULL' } });
    const done = await executor.waitForExecution(started.executionArn);
    expect(done.error, done.cause).toBeUndefined();
    expect(done.status).toBe('SUCCEEDED');
    expect(done.output).toMatchObject({ table: 'visits', dataFiles: 1, records: ITEMS, failedRecords: 0 });
    const exportArn = (done.output as { exportArn: string }).exportArn;

    const first = await lakeFiles(lake, 'changes/visits/');
    const lines = linesOf(first);
    expect(lines).toHaveLength(ITEMS);
    for (const key of first.keys())
      expect(key).toMatch(/^changes\/visits\/siteId=(north|south|east)\/year=\d{4}\/month=\d{2}\//);

    // The lake's records equal the table.
    const scanned: Array<Record<string, unknown>> = [];
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await h.ddb.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: startKey }));
      for (const item of page.Items ?? []) scanned.push(unmarshall(item, { wrapNumbers: true }));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    expect(scanned).toHaveLength(ITEMS);
    const normalise = (item: Record<string, unknown>) =>
      JSON.stringify(
        Object.fromEntries(
          Object.entries(item)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([k, v]) => [
              k,
              v instanceof Set
                ? [...v].sort()
                : typeof v === 'object' && v !== null && 'value' in v
                  ? Number((v as { value: string }).value)
                  : v,
            ]),
        ),
      );
    const fromLake = lines.map((line) => {
      expect(line).toMatchObject({ op: 'r', table: 'visits', before: null });
      const after = line['after'] as Record<string, unknown>;
      return normalise({ ...after, tags: [...(after['tags'] as string[])].sort() });
    });
    expect(fromLake.sort()).toEqual(scanned.map(normalise).sort());

    // Rerun against the same export: the same keys and bytes (landing is idempotent).
    const rerun = await executor.startExecution({
      name: 'reland-1',
      input: { table: 'visits', mode: 'FULL', exportArn },
    });
    const again = await executor.waitForExecution(rerun.executionArn);
    expect(again.status, again.cause).toBe('SUCCEEDED');
    expect(await lakeFiles(lake, 'changes/visits/')).toEqual(first);

    const completed = events.filter((e) => e.detailType === 'BackfillCompleted');
    expect(completed).toHaveLength(2);
    expect(completed[0]).toMatchObject({ source: 'tributary.backfill', detail: { counts: { records: ITEMS } } });
  }, 60_000);

  it('INCREMENTAL: a short window that point-in-time recovery cannot widen to 15 minutes fails clearly', async () => {
    const from = new Date();
    await h.ddb.send(
      new PutItemCommand({
        TableName: tableName,
        Item: { pk: { S: 'p-new' }, sk: { N: '5000' }, siteId: { S: 'north' } },
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const started = await executor.startExecution({
      name: 'incr-1',
      input: { table: 'visits', mode: 'INCREMENTAL', exportFromTime: from.toISOString() },
    });
    const done = await executor.waitForExecution(started.executionArn);
    // The table's point-in-time history is seconds old: the 15-minute minimum cannot be met (as on AWS).
    expect(done.status).toBe('FAILED');
    expect(done.cause).toContain('Backfill.WindowUnavailable');
    expect(events.at(-1)).toMatchObject({ detailType: 'BackfillFailed' });
  }, 30_000);

  it('INCREMENTAL: a window over the maximum is chained; its changes land as c/u records', async () => {
    // Bounds shrunk to seconds (DynamoDB's are 15 minutes and 24 hours) so the test can span "too long" a window.
    const chained = createLocalBackfillWorkflow({
      dynamodb: h.ddb,
      bucketsDir: join(h.dir, 's3'),
      lake,
      tables: [
        {
          name: 'visits',
          tableName,
          tableArn: `arn:aws:dynamodb:us-east-1:000000000000:table/${tableName}`,
          keyAttributes: ['pk', 'sk'],
          partitionBy: ['siteId', 'year', 'month'],
        },
      ],
      settings: { exportBucket: BUCKET, pollSeconds: 1, windowLimits: { minMs: 1000, maxMs: 2000 } },
      dbFile: join(work, 'executions-chained.sqlite'),
      onEvent: (event) => events.push(event),
    });
    try {
      const from = new Date(Math.ceil(Date.now() / 1000) * 1000);
      await new Promise((resolve) => setTimeout(resolve, from.getTime() - Date.now() + 20));
      await h.ddb.send(
        new PutItemCommand({ TableName: tableName, Item: { pk: { S: 'p-0' }, sk: { N: '0' }, siteId: { S: 'west' } } }),
      );
      await new Promise((resolve) => setTimeout(resolve, 2100));
      await h.ddb.send(
        new PutItemCommand({ TableName: tableName, Item: { pk: { S: 'q-1' }, sk: { N: '1' }, siteId: { S: 'west' } } }),
      );
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const to = new Date(Math.floor(Date.now() / 1000) * 1000);
      const before = events.length;
      const started = await chained.startExecution({
        name: 'incr-chained',
        input: {
          table: 'visits',
          mode: 'INCREMENTAL',
          exportFromTime: from.toISOString(),
          exportToTime: to.toISOString(),
        },
      });
      const done = await chained.waitForExecution(started.executionArn);
      expect(done.status, done.cause).toBe('SUCCEEDED');
      const windows = events.slice(before).filter((e) => e.detailType === 'BackfillCompleted');
      expect(windows.length).toBeGreaterThanOrEqual(2);
      const spans = windows.map((e) => e.detail as { exportFromTime: string; exportToTime: string });
      expect(spans[0]!.exportFromTime).toBe(from.toISOString());
      for (let i = 1; i < spans.length; i++) expect(spans[i]!.exportFromTime).toBe(spans[i - 1]!.exportToTime);
      expect(spans.at(-1)!.exportToTime).toBe(to.toISOString());
      const west = linesOf(await lakeFiles(lake, 'changes/visits/siteId=west/'));
      const ops = new Map(west.map((line) => [(line['keys'] as { pk: string }).pk, line['op']]));
      expect(ops.get('p-0')).toBe('u');
      expect(ops.get('q-1')).toBe('c');
    } finally {
      await chained.close();
    }
  }, 60_000);

  it('fails clearly on an unknown table', async () => {
    const started = await executor.startExecution({ name: 'bad-1', input: { table: 'nope', mode: 'FULL' } });
    const done = await executor.waitForExecution(started.executionArn);
    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('Backfill.Failed');
    expect(done.cause).toContain('Backfill.InvalidInput');
  });
});
