import { describe, expect, it } from 'vitest';
import {
  InvalidEventTimeError,
  InvalidStreamRecordError,
  toChangeRecord,
  toNdjsonLine,
} from '../../../src/change-stream/index.js';
import { streamRecord } from './fixtures.js';

const oldImage = { id: { S: '123' }, siteId: { S: '1' }, valueOne: { N: '100' } };

describe('toChangeRecord', () => {
  it('INSERT → c with after, before null', () => {
    const record = toChangeRecord(streamRecord(), { table: 'Visits' });
    expect(record).toMatchObject({
      op: 'c',
      table: 'Visits',
      before: null,
      eventId: 'c81e728d9d4c2f636f067f89cc14862c',
      seq: '4000000000000000000001',
      ts: '2023-11-15T19:29:11.000Z',
    });
    expect(record.ttl).toBeUndefined();
    expect(toNdjsonLine(record)).toBe(
      '{"op":"c","table":"Visits","keys":{"id":"123"},"before":null,' +
        '"after":{"id":"123","siteId":"2","name":"Jane Example","valueOne":123,"valueTwo":6789,"createdAtTime":1700076551926},' +
        '"eventId":"c81e728d9d4c2f636f067f89cc14862c","seq":"4000000000000000000001","ts":"2023-11-15T19:29:11.000Z",' +
        '"source":{"kind":"stream","seq":"4000000000000000000001","time":"2023-11-15T19:29:11.000Z"}}',
    );
  });

  it('an eventName that is only an Object.prototype key is not an operation', () => {
    for (const eventName of ['constructor', 'toString', '__proto__'])
      expect(() => toChangeRecord(streamRecord({ eventName }), { table: 'Visits' }), eventName).toThrow(
        InvalidStreamRecordError,
      );
  });

  it('keeps an attribute named __proto__ as a key of the image', () => {
    const record = toChangeRecord(
      streamRecord({ dynamodb: { NewImage: JSON.parse('{"id":{"S":"123"},"__proto__":{"M":{"x":{"S":"y"}}}}') } }),
      { table: 'Visits' },
    );
    expect(toNdjsonLine(record)).toContain('"after":{"id":"123","__proto__":{"x":"y"}}');
  });

  it("source.time is the stream's time when ts comes from an item attribute", () => {
    const record = toChangeRecord(streamRecord(), {
      table: 'Visits',
      eventTime: { attribute: 'createdAtTime', unit: 'ms' },
    });
    expect(record.ts).toBe('2023-11-15T19:29:11.926Z');
    expect(record.source).toEqual({ kind: 'stream', seq: '4000000000000000000001', time: '2023-11-15T19:29:11.000Z' });
  });

  it('MODIFY → u with before and after (NEW_AND_OLD_IMAGES)', () => {
    const record = toChangeRecord(streamRecord({ eventName: 'MODIFY', dynamodb: { OldImage: oldImage } }), {
      table: 'Visits',
    });
    expect(record.op).toBe('u');
    expect(toNdjsonLine(record)).toContain('"before":{"id":"123","siteId":"1","valueOne":100}');
    expect(record.after).not.toBeNull();
  });

  it('REMOVE → d with before, after null', () => {
    const record = toChangeRecord(
      streamRecord({ eventName: 'REMOVE', dynamodb: { OldImage: oldImage, NewImage: undefined } }),
      {
        table: 'Visits',
      },
    );
    expect(record.op).toBe('d');
    expect(record.after).toBeNull();
    expect(record.before).not.toBeNull();
    expect(record.ttl).toBeUndefined();
  });

  it('TTL delete (service principal) → ttl: true', () => {
    const record = toChangeRecord(
      streamRecord({
        eventName: 'REMOVE',
        userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' },
        dynamodb: { OldImage: oldImage, NewImage: undefined },
      }),
      { table: 'Visits' },
    );
    expect(record.ttl).toBe(true);
    expect(toNdjsonLine(record)).toMatch(/,"ttl":true}$/);
  });

  it('a user identity other than DynamoDB is not TTL', () => {
    const record = toChangeRecord(
      streamRecord({
        eventName: 'REMOVE',
        userIdentity: { type: 'Service', principalId: 'other.amazonaws.com' },
        dynamodb: { OldImage: oldImage },
      }),
      { table: 'Visits' },
    );
    expect(record.ttl).toBeUndefined();
  });

  it.each([
    ['KEYS_ONLY', { NewImage: undefined, OldImage: undefined }, null, null],
    ['NEW_IMAGE', { OldImage: undefined }, null, 'after'],
    ['OLD_IMAGE', { NewImage: undefined, OldImage: oldImage }, 'before', null],
  ] as const)('view type %s: absent images are null', (view, images, before, after) => {
    const record = toChangeRecord(
      streamRecord({ eventName: 'MODIFY', dynamodb: { StreamViewType: view, ...images } }),
      { table: 'T' },
    );
    expect(record.before === null ? null : 'before').toBe(before);
    expect(record.after === null ? null : 'after').toBe(after);
    expect(record.keys).toEqual({ id: '123' });
  });

  it('reads ApproximateCreationDateTime as a Date (AWS SDK shape) or numeric string', () => {
    const fromDate = toChangeRecord(
      streamRecord({ dynamodb: { ApproximateCreationDateTime: new Date('2024-03-01T10:00:00.500Z') } }),
      { table: 'T' },
    );
    expect(fromDate.ts).toBe('2024-03-01T10:00:00.500Z');
    const fromString = toChangeRecord(streamRecord({ dynamodb: { ApproximateCreationDateTime: '1678831218.0' } }), {
      table: 'T',
    });
    expect(fromString.ts).toBe('2023-03-14T22:00:18.000Z');
  });

  describe('event time from an attribute', () => {
    it.each([
      [
        { attribute: 'createdAtTime', unit: 'ms' as const },
        { createdAtTime: { N: '1700076551926' } },
        '2023-11-15T19:29:11.926Z',
      ],
      [{ attribute: 'at', unit: 's' as const }, { at: { N: '1700076551' } }, '2023-11-15T19:29:11.000Z'],
      [
        { attribute: 'at', unit: 'iso' as const },
        { at: { S: '2024-02-29T23:59:59+01:00' } },
        '2024-02-29T22:59:59.000Z',
      ],
    ])('%j', (eventTime, attributes, ts) => {
      const record = toChangeRecord(streamRecord({ dynamodb: { NewImage: { id: { S: '1' }, ...attributes } } }), {
        table: 'T',
        eventTime,
      });
      expect(record.ts).toBe(ts);
    });

    it('reads deletes from the old image', () => {
      const record = toChangeRecord(
        streamRecord({
          eventName: 'REMOVE',
          dynamodb: { NewImage: undefined, OldImage: { createdAtTime: { N: '0' } } },
        }),
        { table: 'T', eventTime: { attribute: 'createdAtTime', unit: 'ms' } },
      );
      expect(record.ts).toBe('1970-01-01T00:00:00.000Z');
    });

    it.each([
      [{ NewImage: { id: { S: '1' } } }, 'is missing from the image'],
      [{ NewImage: { createdAtTime: { S: 'soon' } } }, 'must be a number of milliseconds'],
      [{ NewImage: { createdAtTime: { N: '1e20' } } }, 'is not a time between 1970 and 9999'],
      [{ NewImage: { createdAtTime: { N: '-5' } } }, 'is not a time between 1970 and 9999'],
    ])('rejects %j: %s', (dynamodb, reason) => {
      const run = () =>
        toChangeRecord(streamRecord({ dynamodb }), {
          table: 'T',
          eventTime: { attribute: 'createdAtTime', unit: 'ms' },
        });
      expect(run).toThrow(InvalidEventTimeError);
      expect(run).toThrow(`event time attribute createdAtTime: ${reason}`);
    });

    it('rejects an unparseable ISO string', () => {
      expect(() =>
        toChangeRecord(streamRecord({ dynamodb: { NewImage: { at: { S: 'yesterday' } } } }), {
          table: 'T',
          eventTime: { attribute: 'at', unit: 'iso' },
        }),
      ).toThrow('event time attribute at: is not a time');
    });
  });

  it.each([
    ['not an object', 'x', 'a stream record must be a JSON object'],
    ['unknown eventName', { ...streamRecord(), eventName: 'UPSERT' }, 'eventName must be INSERT, MODIFY or REMOVE'],
    ['no eventID', { ...streamRecord(), eventID: undefined }, 'eventID is missing'],
    ['no dynamodb', { ...streamRecord(), dynamodb: undefined }, 'dynamodb is missing'],
    [
      'no sequence number',
      streamRecord({ dynamodb: { SequenceNumber: undefined } }),
      'dynamodb.SequenceNumber is missing',
    ],
    ['no keys', streamRecord({ dynamodb: { Keys: undefined } }), 'dynamodb.Keys is missing'],
    [
      'image not an object',
      streamRecord({ dynamodb: { NewImage: 'x' as never } }),
      'dynamodb.NewImage must be an object',
    ],
  ])('rejects a record with %s', (_label, input, reason) => {
    expect(() => toChangeRecord(input, { table: 'T' })).toThrow(InvalidStreamRecordError);
    expect(() => toChangeRecord(input, { table: 'T' })).toThrow(reason);
  });

  it('rejects a record without a time', () => {
    expect(() =>
      toChangeRecord(streamRecord({ dynamodb: { ApproximateCreationDateTime: undefined } }), { table: 'T' }),
    ).toThrow('event time: the record has no ApproximateCreationDateTime');
  });
});
