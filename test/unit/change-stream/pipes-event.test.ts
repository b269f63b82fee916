import { describe, expect, it } from 'vitest';
import { toPipesEvent } from '../../../src/change-stream/index.js';
import { compilePattern, matches } from '../../../src/event-pattern/index.js';
import { streamRecord } from './fixtures.js';

describe('toPipesEvent', () => {
  it('returns a record already in Pipes JSON shape unchanged (same object)', () => {
    const record = streamRecord();
    expect(toPipesEvent(record)).toBe(record);
  });

  it('converts the AWS SDK shape: Date → epoch seconds, bytes → base64, deep in M and L', () => {
    const sdk = streamRecord({
      dynamodb: {
        ApproximateCreationDateTime: new Date('2024-03-01T00:00:00.900Z'),
        Keys: { id: { B: new Uint8Array([1, 2]) } },
        NewImage: {
          id: { B: new Uint8Array([1, 2]) },
          set: { BS: [new Uint8Array([255])] },
          nested: { M: { list: { L: [{ S: 'x' }, { B: new Uint8Array([0]) }] } } },
          plain: { S: 'kept' },
        },
      },
    });
    const json = toPipesEvent(sdk);
    expect(json.dynamodb?.ApproximateCreationDateTime).toBe(1709251200);
    expect(json.dynamodb?.Keys).toEqual({ id: { B: 'AQI=' } });
    expect(json.dynamodb?.NewImage).toEqual({
      id: { B: 'AQI=' },
      set: { BS: ['/w=='] },
      nested: { M: { list: { L: [{ S: 'x' }, { B: 'AA==' }] } } },
      plain: { S: 'kept' },
    });
    // the SDK record is not mutated
    expect(sdk.dynamodb?.Keys?.id?.B).toBeInstanceOf(Uint8Array);
    // filters now see what Pipes would deliver
    expect(matches(compilePattern({ dynamodb: { Keys: { id: { B: ['AQI='] } } } }), json)).toBe(true);
    expect(matches(compilePattern({ dynamodb: { Keys: { id: { B: ['AQI='] } } } }), sdk)).toBe(false);
  });
});
