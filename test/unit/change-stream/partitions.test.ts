import { describe, expect, it } from 'vitest';
import {
  InvalidPartitionAttributeError,
  MissingPartitionAttributeError,
  partitionsFor,
  toChangeRecord,
} from '../../../src/change-stream/index.js';
import { hivePath } from '../../../src/lake/layout.js';
import { streamRecord } from './fixtures.js';

const recordWith = (siteId: Record<string, unknown> | undefined, extra: Record<string, unknown> = {}) =>
  toChangeRecord(
    streamRecord({
      dynamodb: {
        ApproximateCreationDateTime: Date.UTC(2024, 2, 1, 4, 5, 6) / 1000,
        NewImage: { id: { S: '1' }, ...(siteId === undefined ? {} : { siteId }), ...extra } as never,
      },
    }),
    { table: 'Visits' },
  );

describe('partitionsFor', () => {
  it('defaults to year/month/day, zero-padded UTC', () => {
    expect(hivePath(partitionsFor(recordWith({ S: '2' })))).toBe('year=2024/month=03/day=01/');
  });

  it('mixes attributes and every time part', () => {
    const parts = partitionsFor(recordWith({ S: '2' }), ['siteId', 'year', 'month', 'day', 'hour', 'minute']);
    expect(parts).toEqual([
      ['siteId', '2'],
      ['year', '2024'],
      ['month', '03'],
      ['day', '01'],
      ['hour', '04'],
      ['minute', '05'],
    ]);
  });

  it('numbers keep their digits; booleans become true/false; keys are a fallback', () => {
    expect(partitionsFor(recordWith({ N: '12345678901234567890123456789012345678' }), ['siteId'])).toEqual([
      ['siteId', '12345678901234567890123456789012345678'],
    ]);
    expect(partitionsFor(recordWith({ BOOL: false }), ['siteId'])).toEqual([['siteId', 'false']]);
    const keysOnly = toChangeRecord(streamRecord({ dynamodb: { NewImage: undefined } }), { table: 'T' });
    expect(partitionsFor(keysOnly, ['id'])).toEqual([['id', '123']]);
  });

  it('deletes partition by the old image', () => {
    const record = toChangeRecord(
      streamRecord({
        eventName: 'REMOVE',
        dynamodb: { NewImage: undefined, OldImage: { id: { S: '1' }, siteId: { S: 'old' } } },
      }),
      { table: 'T' },
    );
    expect(partitionsFor(record, ['siteId'])).toEqual([['siteId', 'old']]);
  });

  it('a missing attribute raises MissingPartitionAttributeError naming it', () => {
    const run = () => partitionsFor(recordWith(undefined), ['siteId']);
    expect(run).toThrow(MissingPartitionAttributeError);
    expect(run).toThrow('partition attribute siteId is missing');
  });

  it('NULL, maps and lists are not partition values', () => {
    expect(() => partitionsFor(recordWith({ NULL: true }), ['siteId'])).toThrow(InvalidPartitionAttributeError);
    expect(() => partitionsFor(recordWith({ M: {} }), ['siteId'])).toThrow(
      'partition attribute siteId: must be a string, number or boolean',
    );
  });

  it('a partition value longer than the limit once encoded is a record error naming the attribute and length, not the value', () => {
    const long = 'x'.repeat(2048);
    const run = () => partitionsFor(recordWith({ S: long }), ['siteId']);
    expect(run).toThrow(InvalidPartitionAttributeError);
    expect(run).toThrow('partition attribute siteId: encoded value is 2048 bytes, over the 200-byte limit');
    try {
      run();
    } catch (error) {
      expect((error as Error).message).not.toContain('xxxx');
    }
    // The limit is on the encoded form: 67 × 'é' is 134 UTF-8 bytes but 402 encoded bytes.
    expect(() => partitionsFor(recordWith({ S: 'é'.repeat(67) }), ['siteId'])).toThrow('402 bytes');
    expect(partitionsFor(recordWith({ S: 'y'.repeat(200) }), ['siteId'])).toEqual([['siteId', 'y'.repeat(200)]]);
  });

  it.each([
    ['a/b', 'siteId=a%2Fb/'],
    ['..', 'siteId=%2E%2E/'],
    ['../../etc', 'siteId=%2E%2E%2F%2E%2E%2Fetc/'],
    ['50%', 'siteId=50%25/'],
    ['São Paulo', 'siteId=S%C3%A3o%20Paulo/'],
    ['', 'siteId=__empty__/'],
    ['site-2_b.c', 'siteId=site-2_b.c/'],
  ])('sanitises %j so it stays one segment inside the lake', (value, path) => {
    const hive = hivePath(partitionsFor(recordWith({ S: value }), ['siteId']));
    expect(hive).toBe(path);
    expect(hive.split('/').filter(Boolean)).toHaveLength(1);
  });
});
