import { describe, expect, it } from 'vitest';
import { buildStreamRecord, canonicalJson, eventNameOf, keyOf } from '../../../src/local/dynamodb/stream-record.js';
import type { StreamInfo, StreamViewType } from '../../../src/local/dynamodb/types.js';

function stream(viewType: StreamViewType): StreamInfo {
  return {
    streamArn: 'arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2026-01-01T00:00:00.000',
    tableName: 't',
    tableId: 'id',
    label: '2026-01-01T00:00:00.000',
    viewType,
    keySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    createdMs: 0,
    shardId: 'shardId-00000000000000000000-00000000',
    startSeq: 1n,
    enabled: true,
  };
}

const oldImage = { pk: { S: 'a' }, sk: { N: '1' }, v: { S: 'old' } };
const newImage = { pk: { S: 'a' }, sk: { N: '1' }, v: { S: 'new' } };

describe('stream records', () => {
  it('names the event from the images, and none for a no-op', () => {
    expect(eventNameOf({ oldImage: undefined, newImage })).toBe('INSERT');
    expect(eventNameOf({ oldImage, newImage })).toBe('MODIFY');
    expect(eventNameOf({ oldImage, newImage: undefined })).toBe('REMOVE');
    expect(eventNameOf({ oldImage, newImage: { v: { S: 'old' }, sk: { N: '1' }, pk: { S: 'a' } } })).toBeUndefined();
    expect(eventNameOf({ oldImage: undefined, newImage: undefined })).toBeUndefined();
  });

  it('extracts keys by the key schema, or undefined when a key attribute is missing', () => {
    const schema = stream('KEYS_ONLY').keySchema;
    expect(keyOf(newImage, schema)).toEqual({ pk: { S: 'a' }, sk: { N: '1' } });
    expect(keyOf({ pk: { S: 'a' } }, schema)).toBeUndefined();
  });

  it('canonical JSON ignores key order at every depth but not list order', () => {
    expect(canonicalJson({ a: { M: { x: { S: '1' }, y: { S: '2' } } } })).toBe(
      canonicalJson({ a: { M: { y: { S: '2' }, x: { S: '1' } } } }),
    );
    expect(canonicalJson({ L: [{ S: '1' }, { S: '2' }] })).not.toBe(canonicalJson({ L: [{ S: '2' }, { S: '1' }] }));
  });

  it.each([
    ['KEYS_ONLY', false, false],
    ['NEW_IMAGE', true, false],
    ['OLD_IMAGE', false, true],
    ['NEW_AND_OLD_IMAGES', true, true],
  ] as const)('%s includes NewImage=%s OldImage=%s', (viewType, withNew, withOld) => {
    const record = buildStreamRecord(
      stream(viewType),
      { oldImage, newImage },
      'eu-west-1',
      new Date('2026-01-01T00:00:01.900Z'),
    );
    expect(record?.eventName).toBe('MODIFY');
    expect(record?.awsRegion).toBe('eu-west-1');
    expect(record?.dynamodb.ApproximateCreationDateTime).toBe(1767225601);
    expect(record?.dynamodb.Keys).toEqual({ pk: { S: 'a' }, sk: { N: '1' } });
    expect(record?.dynamodb.NewImage).toEqual(withNew ? newImage : undefined);
    expect(record?.dynamodb.OldImage).toEqual(withOld ? oldImage : undefined);
    expect('NewImage' in (record?.dynamodb ?? {})).toBe(withNew);
    expect('OldImage' in (record?.dynamodb ?? {})).toBe(withOld);
    expect(record?.dynamodb.StreamViewType).toBe(viewType);
  });

  it('SizeBytes grows with the images included', () => {
    const keysOnly =
      buildStreamRecord(stream('KEYS_ONLY'), { oldImage, newImage }, 'r', new Date())?.dynamodb.SizeBytes ?? 0;
    const both =
      buildStreamRecord(stream('NEW_AND_OLD_IMAGES'), { oldImage, newImage }, 'r', new Date())?.dynamodb.SizeBytes ?? 0;
    expect(keysOnly).toBeGreaterThan(0);
    expect(both).toBeGreaterThan(keysOnly);
  });

  it('returns undefined for a no-op change', () => {
    expect(buildStreamRecord(stream('NEW_IMAGE'), { oldImage, newImage: oldImage }, 'r', new Date())).toBeUndefined();
  });
});
