import type { StreamRecord } from '../../../src/change-stream/index.js';

/** A stream record shaped as EventBridge Pipes delivers it (JSON, epoch-second time). */
export function streamRecord(
  overrides: Partial<StreamRecord> & { dynamodb?: StreamRecord['dynamodb'] } = {},
): StreamRecord {
  return {
    eventID: 'c81e728d9d4c2f636f067f89cc14862c',
    eventName: 'INSERT',
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    eventSourceARN: 'arn:aws:dynamodb:us-east-1:123456789012:table/Visits/stream/2024-01-01T00:00:00.000',
    ...overrides,
    dynamodb: {
      ApproximateCreationDateTime: 1700076551,
      Keys: { id: { S: '123' } },
      NewImage: {
        id: { S: '123' },
        siteId: { S: '2' },
        name: { S: 'Jane Example' },
        valueOne: { N: '123' },
        valueTwo: { N: '6789' },
        createdAtTime: { N: '1700076551926' },
      },
      SequenceNumber: '4000000000000000000001',
      SizeBytes: 100,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
      ...overrides.dynamodb,
    },
  };
}
