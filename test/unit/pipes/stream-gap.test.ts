import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorSink } from '../../../src/lake/error-sink.js';
import { DirectoryObjectStore } from '../../../src/local/object-store/directory-object-store.js';
import { CheckpointStore } from '../../../src/pipes/checkpoint-store.js';
import { TRIM_HORIZON_POSITION } from '../../../src/pipes/dynamodb-stream-source.js';
import { PipeRunner } from '../../../src/pipes/pipe-runner.js';
import { GapReportOnly } from '../../../src/pipes/table-backfill.js';
import type {
  CheckpointReader,
  GapReport,
  PipeBackfill,
  PipeSource,
  SourceBatch,
  StreamGap,
} from '../../../src/pipes/types.js';
import { record } from './fixtures.js';

/** One shard: a gap while its position is the trimmed one, then records after the trim horizon. */
class TrimmedSource implements PipeSource {
  public readonly name = 'trimmed';
  public constructor(private readonly trimmedPosition: string) {}
  public async *read(checkpoints: CheckpointReader): AsyncIterable<SourceBatch> {
    const position = checkpoints.get('shard-1');
    if (position === this.trimmedPosition) {
      yield { shardId: 'shard-1', records: [], lastSequenceNumber: '', gap: { shardId: 'shard-1', position } };
      return;
    }
    if (position === TRIM_HORIZON_POSITION) {
      const records = [record(50), record(51)];
      yield {
        shardId: 'shard-1',
        records,
        lastSequenceNumber: records[1]!.dynamodb!.SequenceNumber!,
        lastRecordTimeMs: 1_700_000_000_000,
      };
    }
  }
}

describe('stream gaps in the pipe runner', () => {
  let dir: string;
  let checkpoints: CheckpointStore;
  const delivered: unknown[] = [];
  const target = { deliver: async (items: unknown[]) => void delivered.push(...items), flush: async () => undefined };
  const trimmed = '000000000000000000007';

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tributary-gap-'));
    checkpoints = new CheckpointStore(join(dir, 'pipes.sqlite'));
    checkpoints.commit('p', 'shard-1', trimmed, 1_700_000_000_000);
    delivered.length = 0;
  });
  afterEach(async () => {
    checkpoints.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('hands the gap to the backfill with the checkpoint committed, then reads the repaired shard in the same drain', async () => {
    const calls: Array<{ gaps: StreamGap[]; committed: unknown }> = [];
    const backfill: PipeBackfill = {
      prepare: async () => undefined,
      repair: async (gaps) => {
        calls.push({ gaps, committed: checkpoints.positions('p') });
        checkpoints.commit('p', 'shard-1', TRIM_HORIZON_POSITION, 4000);
        const report: GapReport = {
          shardId: 'shard-1',
          position: gaps[0]!.position,
          repair: 'incremental',
          exportId: 'x',
          records: 3,
        };
        return [report];
      },
    };
    const runner = new PipeRunner(
      { name: 'p', source: new TrimmedSource(trimmed), target, batchSize: 10, backfill },
      checkpoints,
      { owner: 'test:host:1' },
    );
    const stats = await runner.drain();
    expect(calls).toEqual([
      {
        gaps: [{ shardId: 'shard-1', position: trimmed }],
        committed: [{ shard: 'shard-1', seq: trimmed, sourceTimeMs: 1_700_000_000_000 }],
      },
    ]);
    expect(stats.gaps).toBe(1);
    expect(delivered).toHaveLength(2);
    // The position and the time of its last record are committed together.
    expect(checkpoints.positions('p')).toEqual([
      { shard: 'shard-1', seq: '000000000000000000051', sourceTimeMs: 1_700_000_000_000 },
    ]);
    expect(runner.takeGapReports()).toHaveLength(1);
    expect(runner.takeGapReports()).toEqual([]);
  });

  it('without a backfill, a gap fails the pipe naming the shard (never a silent skip)', async () => {
    const runner = new PipeRunner(
      { name: 'p', source: new TrimmedSource(trimmed), target, batchSize: 10 },
      checkpoints,
      {
        owner: 'test:host:1',
      },
    );
    await expect(runner.drain()).rejects.toThrow(
      /pipe p: shard shard-1: the checkpoint is behind the stream's trim horizon/,
    );
    expect(checkpoints.positions('p')[0]!.seq).toBe(trimmed);
  });

  it('a bus pipe reports the gap (StreamTrimmed entry, log line) and resumes at the trim horizon', async () => {
    const lake = new DirectoryObjectStore(join(dir, 'lake'));
    const lines: string[] = [];
    const backfill = new GapReportOnly({
      pipe: 'p',
      table: { name: 'patients' },
      checkpoints,
      errors: new ErrorSink({ store: lake, pipeline: 'p' }),
      log: (line) => lines.push(line),
    });
    const runner = new PipeRunner(
      { name: 'p', source: new TrimmedSource(trimmed), target, batchSize: 10, backfill },
      checkpoints,
      { owner: 'test:host:1', log: (line) => lines.push(line) },
    );
    await runner.drain();
    expect(runner.takeGapReports()).toMatchObject([
      { shardId: 'shard-1', repair: 'none', checkpointTime: '2023-11-14T22:13:20.000Z' },
    ]);
    expect(delivered).toHaveLength(2);
    expect(
      lines.some((line) => /gap: shard shard-1, checkpoint 0+7 \(last record at 2023-11-14T22:13:20.000Z\)/.test(line)),
    ).toBe(true);
    const entries: Array<{ errorType: string; record: Record<string, unknown> }> = [];
    for await (const { key } of lake.list('_errors/p/'))
      for (const line of gunzipSync((await lake.get(key))!)
        .toString('utf8')
        .split('\n')
        .filter(Boolean))
        entries.push(JSON.parse(line) as { errorType: string; record: Record<string, unknown> });
    expect(entries).toMatchObject([{ errorType: 'StreamTrimmed', record: { shardId: 'shard-1', position: trimmed } }]);
  });
});
