import { ScanCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type DynamoDBStreamsClient,
  type Shard,
} from '@aws-sdk/client-dynamodb-streams';
import type { ExportDescription } from '@aws-sdk/client-dynamodb';
import {
  awaitExport,
  awaitSnapshotTime,
  describePitr,
  describeTableFacts,
  ensurePitr,
  landCompletedExport,
  startFullExport,
  startIncrementalExport,
  type ExportDestination,
  type LandingProgress,
  type PitrState,
  type TableFacts,
} from '../backfill/table-exports.js';
import { ExportUnusableError } from '../backfill/errors.js';
import type { ExportLanding } from '../backfill/types.js';
import { exportIdOf } from '../change-stream/export-record.js';
import type { ErrorSink } from '../lake/error-sink.js';
import type { PartitionedNdjsonWriter } from '../lake/partitioned-ndjson-writer.js';
import { crashPoint } from '../local/fault-hooks.js';
import type { ObjectStore } from '../ports/object-store.js';
import type { CheckpointStore, CommittedPosition, PendingBackfill } from './checkpoint-store.js';
import { AT_SEQUENCE_PREFIX, TRIM_HORIZON_POSITION } from './dynamodb-stream-source.js';
import type { GapReport, PipeBackfill, StreamGap } from './types.js';

/**
 * A stream created at most this long after its table was created with it (one CreateTable request: milliseconds apart)
 * and so saw every item. A stream enabled later by UpdateTable on a table that already holds items is later than this.
 */
const STREAM_WITH_TABLE_MS = 250;
/** DynamoDB Streams keeps records 24 hours. */
const DAY_MS = 86_400_000;
/** Most milliseconds between two progress lines of a long landing. */
const PROGRESS_EVERY_MS = 5000;

/** What {@link initialSnapshotDecision} looks at. */
export interface SnapshotState {
  /** `pipe.snapshot`. */
  mode: 'initial' | 'never';
  /** A snapshot or repair a crash interrupted (it is resumed first, whatever else holds). */
  pending: boolean;
  /** The pipe has committed positions. */
  hasCheckpoint: boolean;
  /** The table holds at least one item. */
  tableHasItems: boolean;
  /**
   * The stream holds the table's whole history: it was enabled with the table, and no record of it can have been
   * trimmed yet (younger than the retention).
   */
  streamHasWholeHistory: boolean;
}

/** What a pipe does before it reads, and why (the reason is safe to log). */
export type SnapshotDecision =
  { action: 'resume'; reason: string } | { action: 'snapshot'; reason: string } | { action: 'stream'; reason: string };

/**
 * Decides whether a pipe takes an initial snapshot before it streams: only a pipe with no checkpoint, on a table with
 * items its stream may not hold, with `snapshot: initial`. A pending snapshot or repair is resumed first.
 *
 * @example
 * initialSnapshotDecision({ mode: 'initial', pending: false, hasCheckpoint: false, tableHasItems: true, streamHasWholeHistory: false })
 * // { action: 'snapshot', reason: 'the table holds items and its stream did not see them all' }
 */
export function initialSnapshotDecision(state: SnapshotState): SnapshotDecision {
  if (state.pending) return { action: 'resume', reason: 'a snapshot or repair was interrupted before it landed' };
  if (state.hasCheckpoint) return { action: 'stream', reason: 'the pipe has a checkpoint' };
  if (state.mode === 'never') return { action: 'stream', reason: 'pipe.snapshot is never' };
  if (!state.tableHasItems) return { action: 'stream', reason: 'the table is empty' };
  if (state.streamHasWholeHistory)
    return { action: 'stream', reason: 'the stream was enabled with the table and holds every change' };
  return { action: 'snapshot', reason: 'the table holds items and its stream did not see them all' };
}

/**
 * Whether a table's stream holds every change ever made to it: created with the table (within 250 ms), and
 * younger than the stream retention, so nothing can have been trimmed.
 *
 * @example
 * streamHasWholeHistory({ tableCreatedMs: 1000, streamCreatedMs: 1200, nowMs: 5000, retentionMs: 86_400_000 }) // true
 */
export function streamHasWholeHistory(input: {
  tableCreatedMs: number | undefined;
  streamCreatedMs: number | undefined;
  nowMs: number;
  retentionMs: number;
}): boolean {
  const { tableCreatedMs, streamCreatedMs, nowMs, retentionMs } = input;
  if (tableCreatedMs === undefined || streamCreatedMs === undefined) return false;
  return streamCreatedMs - tableCreatedMs <= STREAM_WITH_TABLE_MS && nowMs - streamCreatedMs < retentionMs;
}

/** How a stream gap is repaired. */
export type RepairPlan = { kind: 'incremental'; fromMs: number; toMs: number } | { kind: 'full'; reason: string };

/**
 * Plans the repair of shards the stream trimmed past: an INCREMENTAL export from the earliest checkpoint time of those
 * shards to the last whole second (at least one second after it), when point-in-time recovery covers that time; else a
 * FULL snapshot, with the reason.
 *
 * @example
 * repairPlan({ checkpointTimesMs: [1_000_000], pitr: { enabled: true, earliestMs: 900_000 }, nowMs: 1_005_300 })
 * // { kind: 'incremental', fromMs: 1_000_000, toMs: 1_005_000 }
 */
export function repairPlan(input: {
  checkpointTimesMs: ReadonlyArray<number | undefined>;
  pitr: PitrState;
  nowMs: number;
}): RepairPlan {
  const { checkpointTimesMs, pitr, nowMs } = input;
  if (checkpointTimesMs.length === 0 || checkpointTimesMs.some((time) => time === undefined))
    return { kind: 'full', reason: 'the time of the last record read is not known' };
  if (!pitr.enabled || pitr.earliestMs === undefined)
    return { kind: 'full', reason: 'point-in-time recovery was not enabled' };
  const fromMs = Math.floor(Math.min(...(checkpointTimesMs as number[])) / 1000) * 1000;
  if (fromMs < pitr.earliestMs)
    return {
      kind: 'full',
      reason: `point-in-time recovery starts at ${new Date(pitr.earliestMs).toISOString()}, after the checkpoint time`,
    };
  const toMs = Math.max(Math.floor(nowMs / 1000) * 1000, fromMs + 1000);
  return { kind: 'incremental', fromMs, toMs };
}

/**
 * Reports stream gaps: per shard, a log line (pipe, shard, checkpoint and the time of its last record) and a
 * `StreamTrimmed` entry in the pipe's error location (ids and times, never item values), flushed. Returns each shard's
 * checkpoint time (epoch ms) when known.
 *
 * @example
 * const times = await recordGaps({ pipe, table, checkpoints, errors, log }, gaps, 'repaired by an export', Date.now());
 */
export async function recordGaps(
  options: Pick<TableBackfillOptions, 'pipe' | 'table' | 'checkpoints' | 'errors' | 'log'>,
  gaps: readonly StreamGap[],
  outcome: string,
  nowMs: number,
): Promise<Array<number | undefined>> {
  const { checkpoints, pipe, table, errors, log } = options;
  const committed = new Map(checkpoints.positions(pipe).map((position) => [position.shard, position]));
  const times = gaps.map((gap) => committed.get(gap.shardId)?.sourceTimeMs);
  const detectedAt = new Date(nowMs).toISOString();
  for (const [index, gap] of gaps.entries()) {
    const time = times[index];
    const checkpointTime = time === undefined ? 'unknown' : new Date(time).toISOString();
    await errors.add({
      reason:
        `shard ${gap.shardId}: the checkpoint ${gap.position ?? '(none)'} (last record at ${checkpointTime}) is ` +
        `behind the stream's trim horizon: records after it were trimmed before the pipe read them; ${outcome}`,
      errorType: 'StreamTrimmed',
      eventId: `stream-gap-${gap.shardId}-${gap.position ?? 'none'}`,
      record: {
        pipe,
        table: table.name,
        shardId: gap.shardId,
        position: gap.position ?? null,
        checkpointTime,
        detectedAt,
      },
    });
    log(
      `pipe ${pipe}: gap: shard ${gap.shardId}, checkpoint ${gap.position ?? '(none)'} (last record at ` +
        `${checkpointTime}) is behind the stream's trim horizon; recorded in ${errors.location}`,
    );
  }
  await errors.flush();
  return times;
}

/** Every shard of a stream, following DescribeStream's pages. */
async function listShards(streams: DynamoDBStreamsClient, streamArn: string): Promise<Shard[]> {
  const shards: Shard[] = [];
  let exclusiveStartShardId: string | undefined;
  do {
    const { StreamDescription } = await streams.send(
      new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: exclusiveStartShardId }),
    );
    shards.push(...(StreamDescription?.Shards ?? []));
    exclusiveStartShardId = StreamDescription?.LastEvaluatedShardId;
  } while (exclusiveStartShardId);
  return shards;
}

/**
 * Per shard, the position of its oldest record still in the stream (`at:<seq>`), or the shard's start when it holds
 * none (the embedded DynamoDB's DescribeStream starts a shard after its trim horizon). A pipe resumes there after a gap:
 * should that record be trimmed too before the pipe reads it, that is a new gap, where a plain `TRIM_HORIZON` would
 * skip silently.
 *
 * @example
 * const positions = await oldestRecordPositions(streams, facts.streamArn, ['shardId-000001']); // Map { 'shardId-000001' => 'at:…' }
 */
export async function oldestRecordPositions(
  streams: DynamoDBStreamsClient,
  streamArn: string | undefined,
  shardIds: readonly string[],
): Promise<Map<string, string>> {
  const wanted = new Set(shardIds);
  const positions = new Map<string, string>();
  if (streamArn === undefined) return positions;
  for (const shard of await listShards(streams, streamArn)) {
    if (!wanted.has(shard.ShardId!)) continue;
    const { ShardIterator } = await streams.send(
      new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }),
    );
    const page = ShardIterator
      ? await streams.send(new GetRecordsCommand({ ShardIterator, Limit: 1 }))
      : { Records: [] };
    const first = page.Records?.[0]?.dynamodb?.SequenceNumber;
    const start = shard.SequenceNumberRange?.StartingSequenceNumber;
    if (first !== undefined) positions.set(shard.ShardId!, `${AT_SEQUENCE_PREFIX}${first}`);
    else if (start !== undefined) positions.set(shard.ShardId!, `${AT_SEQUENCE_PREFIX}${start}`);
  }
  return positions;
}

/**
 * Stream gaps of a pipe whose target is not the lake (the bus): what was trimmed cannot be landed as change records, so
 * each gap is reported ({@link recordGaps}: a log line, a `StreamTrimmed` entry, and `sync` exits 4) and the shard
 * resumes at its trim horizon, rather than the pipe failing on every read.
 *
 * @example
 * const backfill = new GapReportOnly({ pipe: 'patients-pipe', table, checkpoints, errors, log });
 */
export class GapReportOnly implements PipeBackfill {
  public constructor(
    private readonly options: Pick<TableBackfillOptions, 'pipe' | 'table' | 'checkpoints' | 'errors' | 'log' | 'now'> &
      Partial<Pick<TableBackfillOptions, 'dynamodb' | 'streams'>>,
  ) {}

  public prepare(): Promise<GapReport[]> {
    return Promise.resolve([]);
  }

  public async repair(gaps: StreamGap[]): Promise<GapReport[]> {
    const { checkpoints, pipe, log } = this.options;
    const nowMs = (this.options.now ?? Date.now)();
    const times = await recordGaps(
      this.options,
      gaps,
      'not repairable for a bus target: resumed at the trim horizon',
      nowMs,
    );
    const { dynamodb, streams } = this.options;
    const oldest =
      dynamodb && streams
        ? await oldestRecordPositions(
            streams,
            (await describeTableFacts(dynamodb, this.options.table.name)).streamArn,
            gaps.map((gap) => gap.shardId),
          )
        : new Map<string, string>();
    for (const gap of gaps)
      checkpoints.commit(pipe, gap.shardId, oldest.get(gap.shardId) ?? TRIM_HORIZON_POSITION, nowMs);
    log(`pipe ${pipe}: its target is not the lake, so the gap cannot be repaired: resuming at the trim horizon`);
    return gaps.map((gap, index) => ({
      shardId: gap.shardId,
      position: gap.position,
      ...(times[index] !== undefined ? { checkpointTime: new Date(times[index]).toISOString() } : {}),
      repair: 'none' as const,
      records: 0,
    }));
  }
}

/** Options of {@link TableBackfill}. */
export interface TableBackfillOptions {
  /** The pipe's name (checkpoints, log lines). */
  pipe: string;
  /** The table, as the lake target partitions it. */
  table: ExportLanding['table'];
  /** `pipe.snapshot`. */
  snapshot: 'initial' | 'never';
  dynamodb: DynamoDBClient;
  streams: DynamoDBStreamsClient;
  checkpoints: CheckpointStore;
  /** Where exports are written, and how to read a bucket back. */
  exports: { destination: ExportDestination; store: (bucket: string) => ObjectStore };
  /** A fresh lake writer for one landing (the pipe's buffering settings). */
  writer: () => PartitionedNdjsonWriter;
  /**
   * The lake: after a FULL snapshot or repair, keys it still holds that the snapshot did not read get delete records
   * (a local lake only; see `landVanishedKeys`).
   *
   * @default - no delete records
   */
  lake?: ObjectStore | undefined;
  /** The pipe's error location: lines an export cannot land, and the record of each stream gap. */
  errors: ErrorSink;
  /** Stream retention, ms (24 h on AWS; the embedded DynamoDB's setting locally). */
  retentionMs?: number;
  /** Lines for a person: ids, times and counts only. */
  log: (line: string) => void;
  now?: () => number;
}

/**
 * The initial snapshot and the stream-gap repair of one lake pipe, through DynamoDB exports (`ExportTableToPointInTime`,
 * locally the embedded DynamoDB's), landed with the same conversion, partitions and writer as stream records.
 *
 * Crash safety: the export and the positions the pipe resumes from are saved in the checkpoint store before landing,
 * so a restart lands the same export again (the same deterministic files) and only then commits the positions.
 *
 * @example
 * const backfill = new TableBackfill({ pipe: 'visits-pipe', table, snapshot: 'initial', dynamodb, streams, checkpoints, exports, writer, errors, log });
 * const runner = new PipeRunner({ ...pipe, backfill }, checkpoints, { owner });
 */
export class TableBackfill implements PipeBackfill {
  /** Whether the checks before the first read were made by this process. */
  private prepared = false;
  private readonly now: () => number;

  public constructor(private readonly options: TableBackfillOptions) {
    this.now = options.now ?? Date.now;
  }

  public async prepare(renew: () => void): Promise<GapReport[]> {
    if (this.prepared) return [];
    const { checkpoints, pipe } = this.options;
    const pending = checkpoints.pendingBackfill(pipe);
    const hasCheckpoint = checkpoints.positions(pipe).length > 0;
    if (!pending && (hasCheckpoint || this.options.snapshot === 'never')) {
      this.prepared = true;
      return [];
    }
    const facts = await describeTableFacts(this.options.dynamodb, this.options.table.name);
    const decision = initialSnapshotDecision({
      mode: this.options.snapshot,
      pending: pending !== undefined,
      hasCheckpoint,
      tableHasItems: pending ? true : await this.tableHasItems(),
      streamHasWholeHistory: pending ? false : await this.streamHasWholeHistory(facts),
    });
    if (decision.action === 'resume') {
      this.options.log(
        `pipe ${pipe}: ${pending!.kind} ${exportIdOf(pending!.exportArn)} was interrupted before it landed: landing it again`,
      );
      const landed = await this.land(pending!, facts, renew);
      this.prepared = true;
      // A repair a crash interrupted is still a gap to report (its StreamTrimmed entry was written before it started).
      if (pending!.kind !== 'repair') return [];
      return pending!.positions.map((position) => ({
        shardId: position.shard,
        position: undefined,
        repair: landed.full ? ('full' as const) : ('incremental' as const),
        exportId: exportIdOf(pending!.exportArn),
        records: landed.records,
      }));
    }
    if (decision.action === 'snapshot') {
      this.options.log(`pipe ${pipe}: no checkpoint and ${decision.reason}: taking an initial snapshot`);
      await this.initialSnapshot(facts, renew);
    }
    this.prepared = true;
    return [];
  }

  public async repair(gaps: StreamGap[], renew: () => void): Promise<GapReport[]> {
    const { checkpoints, pipe, dynamodb, table, log } = this.options;
    // The gap is recorded before anything else, so it is never silent even if the repair fails.
    const times = await recordGaps(this.options, gaps, 'repaired by an export', this.now());

    const facts = await describeTableFacts(dynamodb, table.name);
    const pitr = await describePitr(dynamodb, table.name);
    let plan = repairPlan({ checkpointTimesMs: times, pitr, nowMs: this.now() });
    let exportArn: string | undefined;
    let resumeTimeMs = 0;
    if (plan.kind === 'incremental') {
      const { fromMs, toMs } = plan;
      while (this.now() < toMs) await new Promise((resolve) => setTimeout(resolve, toMs - this.now() + 5));
      log(
        `pipe ${pipe}: repairing with an INCREMENTAL export of ${table.name} from ${new Date(fromMs).toISOString()} ` +
          `to ${new Date(toMs).toISOString()}`,
      );
      try {
        exportArn = await startIncrementalExport(
          dynamodb,
          facts.tableArn,
          new Date(fromMs),
          new Date(toMs),
          this.options.exports.destination,
        );
        resumeTimeMs = toMs;
      } catch (error) {
        plan = { kind: 'full', reason: `the INCREMENTAL export was refused (${(error as Error).name})` };
      }
    }
    if (plan.kind === 'full') {
      log(
        `pipe ${pipe}: the gap cannot be exported incrementally (${plan.reason}): repairing with a FULL snapshot ` +
          `instead (keys the lake holds that it no longer has are landed as deletes)`,
      );
      const exportTime = await this.snapshotTime();
      exportArn = await startFullExport(dynamodb, facts.tableArn, exportTime, this.options.exports.destination);
      resumeTimeMs = exportTime.getTime();
    }
    // Resume at the first record still there, as a sequence number: should it be trimmed too before the pipe reads it,
    // that is a new gap (repaired from this repair's end), never a silent skip as a plain TRIM_HORIZON would be.
    const horizons = await oldestRecordPositions(
      this.options.streams,
      facts.streamArn,
      gaps.map((gap) => gap.shardId),
    );
    const pending: PendingBackfill = {
      kind: 'repair',
      exportArn: exportArn!,
      positions: gaps.map((gap) => ({
        shard: gap.shardId,
        seq: horizons.get(gap.shardId) ?? TRIM_HORIZON_POSITION,
        sourceTimeMs: resumeTimeMs,
      })),
    };
    checkpoints.savePendingBackfill(pipe, pending);
    const { records } = await this.land(pending, facts, renew);
    log(`pipe ${pipe}: gap repaired: ${records} change records landed; resuming at the trim horizon`);
    return gaps.map((gap, index) => ({
      shardId: gap.shardId,
      position: gap.position,
      ...(times[index] !== undefined ? { checkpointTime: new Date(times[index]).toISOString() } : {}),
      repair: plan.kind,
      exportId: exportIdOf(exportArn!),
      records,
      ...(plan.kind === 'full' ? { fallbackReason: plan.reason } : {}),
    }));
  }

  /** Records the stream positions, then exports the table and lands it; the pipe streams from those positions. */
  private async initialSnapshot(facts: TableFacts, renew: () => void): Promise<void> {
    const { pipe, checkpoints, dynamodb } = this.options;
    // Before the export reads: every write after these positions is streamed, so none made meanwhile is lost.
    const positions = await this.recordPositions(facts);
    // On AWS the export reads the table as of its time: at or after the positions, or writes between would be in
    // neither the snapshot nor the stream. (The embedded export reads as of the call, later still.)
    const exportTime = await this.snapshotTime(this.now());
    const exportArn = await startFullExport(dynamodb, facts.tableArn, exportTime, this.options.exports.destination);
    this.options.log(
      `pipe ${pipe}: snapshot ${exportIdOf(exportArn)} at ${exportTime.toISOString()} started; ` +
        `${positions.length} shard position(s) recorded`,
    );
    const pending: PendingBackfill = {
      kind: 'snapshot',
      exportArn,
      positions: positions.map((position) => ({ ...position, sourceTimeMs: exportTime.getTime() })),
    };
    checkpoints.savePendingBackfill(pipe, pending);
    const { records } = await this.land(pending, facts, renew);
    this.options.log(
      `pipe ${pipe}: snapshot landed: ${records} items as r records; streaming from the recorded positions`,
    );
  }

  /** Point-in-time recovery on (said when this call enabled it), then the snapshot's whole-second time. */
  private async snapshotTime(notBeforeMs = 0): Promise<Date> {
    const { dynamodb, table, pipe } = this.options;
    const pitr = await ensurePitr(dynamodb, table.name);
    if (pitr.enabledNow)
      this.options.log(`pipe ${pipe}: enabled point-in-time recovery on ${table.name} (exports need it)`);
    return awaitSnapshotTime(pitr.earliestMs, this.now, notBeforeMs);
  }

  /** Waits for the export, lands it, then commits the pending positions and forgets it. Returns the records landed. */
  private async land(
    pending: PendingBackfill,
    facts: TableFacts,
    renew: () => void,
  ): Promise<{ records: number; full: boolean }> {
    const { pipe, dynamodb, checkpoints } = this.options;
    let description: ExportDescription;
    try {
      description = await awaitExport(dynamodb, pending.exportArn, renew);
    } catch (error) {
      if (!(error instanceof ExportUnusableError)) throw error;
      // Retrying it would fail forever: forget it, and the next poll starts over.
      checkpoints.abandonBackfill(pipe);
      this.options.log(`pipe ${pipe}: ${pending.kind}: ${error.reason}: dropped; the next poll starts it again`);
      throw error;
    }
    crashPoint('backfill.before-land');
    let lastLine = this.now();
    const landed = await landCompletedExport(description, {
      exportStore: this.options.exports.store,
      keyAttributes: facts.keyAttributes,
      table: this.options.table,
      writer: this.options.writer(),
      errors: this.options.errors,
      lake: this.options.lake,
      onProgress: (progress: LandingProgress) => {
        renew();
        if (progress.dataFiles < progress.totalDataFiles && this.now() - lastLine < PROGRESS_EVERY_MS) return;
        lastLine = this.now();
        this.options.log(
          `pipe ${pipe}: ${pending.kind} ${progress.exportId}: ${progress.dataFiles}/${progress.totalDataFiles} data ` +
            `files, ${progress.records} records landed` +
            (progress.failed > 0 ? `, ${progress.failed} rejected (see ${this.options.errors.location})` : ''),
        );
      },
    });
    if (landed.vanished?.skipped !== undefined)
      this.options.log(
        `pipe ${pipe}: ${pending.kind} ${landed.exportId}: keys gone from the table not checked (${landed.vanished.skipped})`,
      );
    if (landed.vanished !== undefined && landed.vanished.deleted > 0)
      this.options.log(
        `pipe ${pipe}: ${pending.kind} ${landed.exportId}: ${landed.vanished.deleted} key(s) the lake held are no longer ` +
          `in the table: landed as deletes`,
      );
    // Landed but not committed: a restart lands the same export again, over the same files.
    crashPoint('backfill.after-land');
    checkpoints.finishBackfill(pipe);
    return { records: landed.records, full: description.ExportType !== 'INCREMENTAL_EXPORT' };
  }

  private async tableHasItems(): Promise<boolean> {
    const { Count } = await this.options.dynamodb.send(
      new ScanCommand({ TableName: this.options.table.name, Select: 'COUNT', Limit: 1 }),
    );
    return (Count ?? 0) > 0;
  }

  private async streamHasWholeHistory(facts: TableFacts): Promise<boolean> {
    if (!facts.streamArn) return false;
    const { StreamDescription } = await this.options.streams.send(
      new DescribeStreamCommand({ StreamArn: facts.streamArn }),
    );
    return streamHasWholeHistory({
      tableCreatedMs: facts.createdMs,
      streamCreatedMs: StreamDescription?.CreationRequestDateTime?.getTime(),
      nowMs: this.now(),
      retentionMs: this.options.retentionMs ?? DAY_MS,
    });
  }

  /**
   * Per shard, the position a pipe must stream from so that it misses no write after now: the last sequence number
   * present, or (an empty shard) `at:` its starting sequence number.
   */
  private async recordPositions(facts: TableFacts): Promise<CommittedPosition[]> {
    const { streams } = this.options;
    if (!facts.streamArn) throw new Error(`table ${this.options.table.name} has no stream: enable StreamSpecification`);
    const shards = await listShards(streams, facts.streamArn);
    const positions: CommittedPosition[] = [];
    for (const shard of shards) {
      const { ShardIterator } = await streams.send(
        new GetShardIteratorCommand({
          StreamArn: facts.streamArn,
          ShardId: shard.ShardId!,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      );
      let iterator = ShardIterator;
      let last: string | undefined;
      while (iterator) {
        const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
        const records = page.Records ?? [];
        if (records.length === 0) break;
        last = records[records.length - 1]!.dynamodb!.SequenceNumber!;
        iterator = page.NextShardIterator;
      }
      const start = shard.SequenceNumberRange?.StartingSequenceNumber;
      if (last === undefined && start === undefined)
        throw new Error(`shard ${shard.ShardId} has no starting sequence number`);
      positions.push({ shard: shard.ShardId!, seq: last ?? `${AT_SEQUENCE_PREFIX}${start!}` });
    }
    return positions;
  }
}
