import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AwsWireError } from '../../../src/local/dynamodb/errors.js';
import {
  DEFAULT_STREAM_RETENTION_SECONDS,
  STREAM_RETENTION_ENV,
  StreamPurger,
  resolveStreamRetentionSeconds,
} from '../../../src/local/dynamodb/stream-retention.js';
import { StreamStore, formatSequenceNumber } from '../../../src/local/dynamodb/stream-store.js';
import { StreamsApi } from '../../../src/local/dynamodb/streams-api.js';
import type { StreamInfo, UnsequencedStreamRecord } from '../../../src/local/dynamodb/types.js';

const keySchema = [{ AttributeName: 'pk', KeyType: 'HASH' as const }];
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 0, 1);

function record(pk: string, ms: number): UnsequencedStreamRecord {
  return {
    eventID: `e-${pk}`,
    eventName: 'INSERT',
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    dynamodb: {
      ApproximateCreationDateTime: Math.floor(ms / 1000),
      Keys: { pk: { S: pk } },
      NewImage: { pk: { S: pk } },
      SizeBytes: 4,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
    eventSourceARN: 'arn',
  };
}

describe('stream retention', () => {
  let dir: string;
  let file: string;
  let store: StreamStore;
  let stream: StreamInfo;
  let now: number;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tributary-retention-unit-'));
    file = join(dir, 'streams.sqlite');
    store = new StreamStore(file);
    stream = store.createStream({
      tableName: 'Visits',
      tableId: 'table-id-1',
      viewType: 'NEW_AND_OLD_IMAGES',
      keySchema,
      region: 'us-east-1',
      accountId: '000000000000',
    });
    now = T0;
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Appends records at the given times (ms after T0) and returns their positions. */
  function appendAt<T extends number[]>(...offsets: T): { [K in keyof T]: bigint } {
    return offsets.map((offset, i) => store.append(stream.streamArn, record(`k${i}`, T0 + offset), T0 + offset)) as {
      [K in keyof T]: bigint;
    };
  }

  const api = (retentionMs: number) => new StreamsApi(store, { retentionMs, now: () => now });
  const readAll = () => store.readAfter(stream.streamArn, 0n, 1000).map((r) => r.position);

  function trimmedError(run: () => unknown): AwsWireError | undefined {
    try {
      run();
    } catch (error) {
      if (error instanceof AwsWireError && error.code === 'TrimmedDataAccessException') return error;
      throw error;
    }
    return undefined;
  }

  describe('trim horizon', () => {
    it('covers the oldest records appended before the cutoff, and never moves back', () => {
      const [p0, p1, p2] = appendAt(0, 1000, 2000);
      expect(store.advanceTrimHorizon(stream.streamArn, T0)).toBe(stream.startSeq - 1n);
      expect(store.advanceTrimHorizon(stream.streamArn, T0 + 1500)).toBe(p1);
      expect(store.advanceTrimHorizon(stream.streamArn, T0 + 500)).toBe(p1);
      expect(store.advanceTrimHorizon(stream.streamArn, T0 + 5000)).toBe(p2);
      expect(store.stream(stream.streamArn)?.trimmedSeq).toBe(p2);
      expect(p0).toBeLessThan(p1);
    });

    it('trims a prefix only: a record appended after the cutoff keeps the records after it', () => {
      // A clock step back: the third record is older than the second.
      const [, p1] = appendAt(0, 5000, 1000);
      expect(store.advanceTrimHorizon(stream.streamArn, T0 + 2000)).toBe(p1 - 1n);
    });

    it('is per stream: records of other streams in between do not count', () => {
      const other = store.createStream({
        tableName: 'Other',
        tableId: 'table-id-2',
        viewType: 'NEW_IMAGE',
        keySchema,
        region: 'us-east-1',
        accountId: '000000000000',
      });
      const [p0] = appendAt(0);
      store.append(other.streamArn, record('o', T0 + 100), T0 + 100);
      appendAt(9000);
      expect(store.advanceTrimHorizon(stream.streamArn, T0 + 1000)).toBe(p0);
      expect(store.advanceTrimHorizon(other.streamArn, T0 + 50)).toBe(other.startSeq - 1n);
    });
  });

  describe('Streams API', () => {
    function iterator(streams: StreamsApi, type: string, position?: bigint): string {
      const output = streams.handle('GetShardIterator', {
        StreamArn: stream.streamArn,
        ShardId: stream.shardId,
        ShardIteratorType: type,
        ...(position !== undefined ? { SequenceNumber: formatSequenceNumber(position) } : {}),
      }) as { ShardIterator: string };
      return output.ShardIterator;
    }
    const records = (streams: StreamsApi, shardIterator: string) =>
      (
        streams.handle('GetRecords', { ShardIterator: shardIterator }) as {
          Records: Array<{ dynamodb: { SequenceNumber: string } }>;
        }
      ).Records.map((r) => BigInt(r.dynamodb.SequenceNumber) - 10n ** 20n);

    it('throws TrimmedDataAccessException exactly when a record after the position was trimmed', () => {
      const [p0, p1, p2] = appendAt(0, 1000, 5000);
      now = T0 + 3000;
      const streams = api(1500); // p0 and p1 are trimmed, p2 is not
      expect(records(streams, iterator(streams, 'TRIM_HORIZON'))).toEqual([p2]);
      expect(trimmedError(() => iterator(streams, 'AFTER_SEQUENCE_NUMBER', p0))?.toBody()).toEqual({
        __type: 'com.amazonaws.dynamodb.v20120810#TrimmedDataAccessException',
        message: 'The data you are trying to access has been trimmed.',
      });
      expect(trimmedError(() => iterator(streams, 'AT_SEQUENCE_NUMBER', p1))).toBeDefined();
      // The newest trimmed record as a checkpoint: nothing after it is lost.
      expect(records(streams, iterator(streams, 'AFTER_SEQUENCE_NUMBER', p1))).toEqual([p2]);
      expect(records(streams, iterator(streams, 'AT_SEQUENCE_NUMBER', p2))).toEqual([p2]);
      expect(records(streams, iterator(streams, 'AFTER_SEQUENCE_NUMBER', p2))).toEqual([]);
    });

    it('an iterator taken before a trim fails on its next GetRecords; one past the trimmed records reads on', () => {
      const [p0, p1] = appendAt(0, 1000);
      const streams = api(1500);
      now = T0 + 1200;
      const fromStart = iterator(streams, 'TRIM_HORIZON');
      const afterP0 = iterator(streams, 'AFTER_SEQUENCE_NUMBER', p0);
      const afterP1 = iterator(streams, 'AFTER_SEQUENCE_NUMBER', p1);
      now = T0 + 2000; // p0 is trimmed now
      expect(trimmedError(() => records(streams, fromStart))).toBeDefined();
      expect(records(streams, afterP0)).toEqual([p1]);
      now = T0 + 3000; // and p1
      expect(trimmedError(() => records(streams, afterP0))).toBeDefined();
      expect(records(streams, afterP1)).toEqual([]);
    });

    it("DescribeStream's shard starts at the first record not trimmed, or just after the horizon", () => {
      const [, p1, p2] = appendAt(0, 1000, 5000);
      const streams = api(1500);
      const starting = () =>
        (
          streams.handle('DescribeStream', { StreamArn: stream.streamArn }) as {
            StreamDescription: { Shards: Array<{ SequenceNumberRange: { StartingSequenceNumber: string } }> };
          }
        ).StreamDescription.Shards[0]?.SequenceNumberRange.StartingSequenceNumber;
      now = T0;
      expect(starting()).toBe(formatSequenceNumber(stream.startSeq));
      now = T0 + 3000;
      expect(starting()).toBe(formatSequenceNumber(p2));
      now = T0 + 10_000;
      expect(starting()).toBe(formatSequenceNumber(p2 + 1n));
      expect(p1).toBeLessThan(p2);
    });
  });

  describe('purge', () => {
    it('deletes trimmed records when point-in-time recovery is off, in batches', async () => {
      appendAt(0, 1, 2, 3, 4, 5 * HOUR);
      now = T0 + DAY + HOUR;
      const purger = new StreamPurger(store, { retentionMs: DAY, batchSize: 2, now: () => now });
      expect(await purger.runOnce()).toBe(5);
      expect(readAll()).toHaveLength(1);
      await purger.stop();
    });

    it('keeps trimmed records inside the PITR window for INCREMENTAL exports, and deletes them once outside', async () => {
      store.setPitr('Visits', 'table-id-1', { recoveryDays: 2 });
      const enabledMs = store.pitr('Visits', 'table-id-1')?.enabledMs ?? 0;
      // Records appended after PITR was enabled (the real clock), hours apart.
      const base = enabledMs + 1000;
      const positions = [0, HOUR, 2 * HOUR].map((offset, i) =>
        store.append(stream.streamArn, record(`p${i}`, base + offset), base + offset),
      );
      now = base + DAY + 3 * HOUR;
      const streams = api(DAY);
      const trimHorizon = streams.handle('GetShardIterator', {
        StreamArn: stream.streamArn,
        ShardId: stream.shardId,
        ShardIteratorType: 'TRIM_HORIZON',
      }) as { ShardIterator: string };
      expect(
        (streams.handle('GetRecords', { ShardIterator: trimHorizon.ShardIterator }) as { Records: unknown[] }).Records,
      ).toEqual([]);
      const purger = new StreamPurger(store, { retentionMs: DAY, now: () => now });
      expect(await purger.runOnce()).toBe(0);
      expect(readAll()).toEqual(positions);
      now = base + 2 * DAY + HOUR + 30 * 60_000; // the first two are older than the 2-day window
      expect(await purger.runOnce()).toBe(2);
      expect(readAll()).toEqual(positions.slice(2));
    });

    it('never deletes a record the Streams API still serves, even when PITR no longer needs it', async () => {
      appendAt(0, 2 * HOUR);
      now = T0 + DAY + HOUR;
      const purger = new StreamPurger(store, { retentionMs: DAY, now: () => now });
      expect(await purger.runOnce()).toBe(1);
      expect(readAll()).toHaveLength(1);
    });

    it('the timer purges on its own and stops with the store still open', async () => {
      appendAt(0);
      now = T0 + 10_000;
      const purger = new StreamPurger(store, { retentionMs: 1000, intervalMs: 5, now: () => now });
      purger.start();
      for (let i = 0; i < 200 && readAll().length > 0; i += 1) await new Promise((r) => setTimeout(r, 5));
      await purger.stop();
      expect(readAll()).toEqual([]);
    });
  });

  it('a file written before retention existed gets its columns, record times from ApproximateCreationDateTime', () => {
    store.close();
    const legacy = join(dir, 'legacy.sqlite');
    const db = new Database(legacy);
    db.exec(`
      CREATE TABLE streams (stream_arn TEXT PRIMARY KEY, table_name TEXT NOT NULL, table_id TEXT NOT NULL,
        label TEXT NOT NULL, view_type TEXT NOT NULL, key_schema TEXT NOT NULL, created_ms INTEGER NOT NULL,
        shard_id TEXT NOT NULL, start_seq INTEGER NOT NULL, end_seq INTEGER, enabled INTEGER NOT NULL);
      CREATE TABLE records (seq INTEGER PRIMARY KEY AUTOINCREMENT, stream_arn TEXT NOT NULL, record TEXT NOT NULL);
    `);
    db.prepare(
      "INSERT INTO streams VALUES ('arn-s', 'T', 'id', 'label', 'NEW_IMAGE', '[]', 0, 'shardId-1', 1, NULL, 1)",
    ).run();
    db.prepare("INSERT INTO records (stream_arn, record) VALUES ('arn-s', ?)").run(
      JSON.stringify(record('a', T0 + 1500)),
    );
    db.close();
    store = new StreamStore(legacy);
    expect(store.advanceTrimHorizon('arn-s', T0 + 999)).toBe(0n);
    expect(store.advanceTrimHorizon('arn-s', T0 + 1001)).toBe(1n);
  });

  it('the retention is the option, else the environment variable, else 24 hours', () => {
    expect(resolveStreamRetentionSeconds(undefined, {})).toBe(DEFAULT_STREAM_RETENTION_SECONDS);
    expect(resolveStreamRetentionSeconds(undefined, { [STREAM_RETENTION_ENV]: '1.5' })).toBe(1.5);
    expect(resolveStreamRetentionSeconds(30, { [STREAM_RETENTION_ENV]: '1.5' })).toBe(30);
    expect(() => resolveStreamRetentionSeconds(undefined, { [STREAM_RETENTION_ENV]: 'soon' })).toThrow(
      STREAM_RETENTION_ENV,
    );
    expect(() => resolveStreamRetentionSeconds(0, {})).toThrow('positive');
  });
});
