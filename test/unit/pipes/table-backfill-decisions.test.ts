import { describe, expect, it } from 'vitest';
import { awaitSnapshotTime } from '../../../src/backfill/table-exports.js';
import { iteratorFor, isTrimmed } from '../../../src/pipes/dynamodb-stream-source.js';
import {
  initialSnapshotDecision,
  repairPlan,
  streamHasWholeHistory,
  type SnapshotState,
} from '../../../src/pipes/table-backfill.js';
import { TrimmedDataAccessException } from '@aws-sdk/client-dynamodb-streams';

const base: SnapshotState = {
  mode: 'initial',
  pending: false,
  hasCheckpoint: false,
  tableHasItems: true,
  streamHasWholeHistory: false,
};

describe('initialSnapshotDecision', () => {
  it('snapshots a pipe with no checkpoint on a table with items its stream did not see', () => {
    expect(initialSnapshotDecision(base).action).toBe('snapshot');
  });

  it('streams when there is a checkpoint, the table is empty, the stream holds everything, or snapshot is never', () => {
    expect(initialSnapshotDecision({ ...base, hasCheckpoint: true }).action).toBe('stream');
    expect(initialSnapshotDecision({ ...base, tableHasItems: false }).action).toBe('stream');
    expect(initialSnapshotDecision({ ...base, streamHasWholeHistory: true }).action).toBe('stream');
    expect(initialSnapshotDecision({ ...base, mode: 'never' })).toEqual({
      action: 'stream',
      reason: 'pipe.snapshot is never',
    });
  });

  it('resumes a pending snapshot first, whatever else holds (a restart after kill -9 re-lands the same export)', () => {
    expect(initialSnapshotDecision({ ...base, pending: true, hasCheckpoint: true, mode: 'never' }).action).toBe(
      'resume',
    );
    expect(initialSnapshotDecision({ ...base, pending: true, tableHasItems: false }).action).toBe('resume');
  });
});

describe('streamHasWholeHistory', () => {
  const day = 86_400_000;
  it('is true only for a stream created with its table and younger than the retention', () => {
    expect(streamHasWholeHistory({ tableCreatedMs: 0, streamCreatedMs: 40, nowMs: 10_000, retentionMs: day })).toBe(
      true,
    );
    // Enabled later (UpdateTable on an existing table): items written before are not in it.
    expect(streamHasWholeHistory({ tableCreatedMs: 0, streamCreatedMs: 400, nowMs: 10_000, retentionMs: day })).toBe(
      false,
    );
    // Older than the retention: its first records may be trimmed.
    expect(streamHasWholeHistory({ tableCreatedMs: 0, streamCreatedMs: 0, nowMs: 3000, retentionMs: 2000 })).toBe(
      false,
    );
    expect(streamHasWholeHistory({ tableCreatedMs: undefined, streamCreatedMs: 0, nowMs: 1, retentionMs: day })).toBe(
      false,
    );
  });
});

describe('repairPlan', () => {
  const pitr = { enabled: true, earliestMs: 1_000_000 };
  it('exports incrementally from the earliest checkpoint time (whole second) to the last whole second', () => {
    expect(repairPlan({ checkpointTimesMs: [1_500_000, 1_200_400], pitr, nowMs: 1_900_700 })).toEqual({
      kind: 'incremental',
      fromMs: 1_200_000,
      toMs: 1_900_000,
    });
  });

  it('keeps the window at least one second long', () => {
    expect(repairPlan({ checkpointTimesMs: [1_900_000], pitr, nowMs: 1_900_300 })).toEqual({
      kind: 'incremental',
      fromMs: 1_900_000,
      toMs: 1_901_000,
    });
  });

  it('falls back to a FULL snapshot, saying why, when the window cannot be exported', () => {
    expect(repairPlan({ checkpointTimesMs: [999_000], pitr, nowMs: 2_000_000 })).toMatchObject({
      kind: 'full',
      reason: expect.stringMatching(/point-in-time recovery starts at .* after the checkpoint time/),
    });
    expect(
      repairPlan({ checkpointTimesMs: [1_500_000], pitr: { enabled: false, earliestMs: undefined }, nowMs: 2e6 }),
    ).toEqual({ kind: 'full', reason: 'point-in-time recovery was not enabled' });
    expect(repairPlan({ checkpointTimesMs: [undefined, 1_500_000], pitr, nowMs: 2_000_000 })).toEqual({
      kind: 'full',
      reason: 'the time of the last record read is not known',
    });
  });
});

describe('stream positions', () => {
  it('maps committed positions and markers to shard iterators', () => {
    expect(iteratorFor(undefined, 'LATEST')).toEqual({ ShardIteratorType: 'LATEST' });
    expect(iteratorFor('100000000000000000042', 'TRIM_HORIZON')).toEqual({
      ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
      SequenceNumber: '100000000000000000042',
    });
    expect(iteratorFor('at:100000000000000000007', 'LATEST')).toEqual({
      ShardIteratorType: 'AT_SEQUENCE_NUMBER',
      SequenceNumber: '100000000000000000007',
    });
    expect(iteratorFor('trim-horizon', 'LATEST')).toEqual({ ShardIteratorType: 'TRIM_HORIZON' });
  });

  it('tells a trimmed position from other errors', () => {
    expect(isTrimmed(new TrimmedDataAccessException({ message: 'trimmed', $metadata: {} }))).toBe(true);
    expect(isTrimmed(Object.assign(new Error('x'), { name: 'TrimmedDataAccessException' }))).toBe(true);
    expect(isTrimmed(new Error('ExpiredIteratorException'))).toBe(false);
  });
});

describe('awaitSnapshotTime', () => {
  it('is the current whole second, or the next one when PITR or the recorded positions are later in this second', async () => {
    let clock = 1_000_400;
    const now = () => clock;
    expect((await awaitSnapshotTime(900_000, now)).getTime()).toBe(1_000_000);
    // Positions recorded at 1_000_300: a read as of 1_000_000 would miss writes between; wait for 1_001_000.
    const waited = awaitSnapshotTime(900_000, now, 1_000_300);
    clock = 1_001_010;
    expect((await waited).getTime()).toBe(1_001_000);
  });
});
