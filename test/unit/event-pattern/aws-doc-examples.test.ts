/**
 * Examples from the AWS documentation, each test naming its source section:
 * - [CF] EventBridge user guide, "Content filtering in Amazon EventBridge event patterns"
 *   https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-content-based-filtering.html
 * - [OPS] EventBridge user guide, "Comparison operators for use in event patterns"
 *   https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
 * - [DDB] Lambda developer guide, "Using event filtering with a DynamoDB event source"
 *   https://docs.aws.amazon.com/lambda/latest/dg/with-ddb-filtering.html (Pipes filter the same way)
 * - [SYS] docs in this repo: the reference design's pipe filter (SYSTEM.md §1, "Specs and facts")
 */
import { describe, expect, it } from 'vitest';
import { compilePattern, matches } from '../../../src/event-pattern/index.js';
import type { EventPattern } from '../../../src/event-pattern/index.js';

const test = (pattern: EventPattern, event: unknown) => matches(compilePattern(pattern), event);

describe('[CF] content filtering examples', () => {
  it('prefix matching: time starting with 2017-10-02', () => {
    const pattern = { time: [{ prefix: '2017-10-02' }] };
    expect(test(pattern, { time: '2017-10-02T18:43:48Z' })).toBe(true);
    expect(test(pattern, { time: '2017-10-03T18:43:48Z' })).toBe(false);
  });

  it('prefix matching while ignoring case: service starting with EventB', () => {
    const pattern = { detail: { service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] } };
    for (const service of ['EventBridge', 'EVENTBRIDGE', 'eventbus'])
      expect(test(pattern, { detail: { service } })).toBe(true);
    expect(test(pattern, { detail: { service: 'Lambda' } })).toBe(false);
  });

  it('suffix matching: FileName ending in .png', () => {
    const pattern = { FileName: [{ suffix: '.png' }] };
    expect(test(pattern, { FileName: 'photo.png' })).toBe(true);
    expect(test(pattern, { FileName: 'photo.PNG' })).toBe(false);
  });

  it('suffix matching while ignoring case: .png and .PNG', () => {
    const pattern = { detail: { FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] } };
    expect(test(pattern, { detail: { FileName: 'photo.PNG' } })).toBe(true);
    expect(test(pattern, { detail: { FileName: 'photo.jpg' } })).toBe(false);
  });

  it('anything-but matching with a string and with a number', () => {
    const state = { detail: { state: [{ 'anything-but': 'initializing' }] } };
    expect(test(state, { detail: { state: 'running' } })).toBe(true);
    expect(test(state, { detail: { state: 'initializing' } })).toBe(false);
    const limit = { detail: { 'x-limit': [{ 'anything-but': 123 }] } };
    expect(test(limit, { detail: { 'x-limit': 124 } })).toBe(true);
    expect(test(limit, { detail: { 'x-limit': 123 } })).toBe(false);
  });

  it('anything-but matching with lists of strings and of numbers', () => {
    const state = { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } };
    expect(test(state, { detail: { state: 'running' } })).toBe(true);
    expect(test(state, { detail: { state: 'overloaded' } })).toBe(false);
    const limit = { detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } };
    expect(test(limit, { detail: { 'x-limit': 150 } })).toBe(true);
    expect(test(limit, { detail: { 'x-limit': 200 } })).toBe(false);
  });

  it('anything-but with prefix, suffix, equals-ignore-case and wildcard', () => {
    expect(
      test({ detail: { state: [{ 'anything-but': { prefix: 'init' } }] } }, { detail: { state: 'initializing' } }),
    ).toBe(false);
    expect(
      test({ detail: { state: [{ 'anything-but': { prefix: 'init' } }] } }, { detail: { state: 'running' } }),
    ).toBe(true);
    expect(
      test({ detail: { FileName: [{ 'anything-but': { suffix: '.txt' } }] } }, { detail: { FileName: 'a.txt' } }),
    ).toBe(false);
    expect(
      test({ detail: { FileName: [{ 'anything-but': { suffix: '.txt' } }] } }, { detail: { FileName: 'a.png' } }),
    ).toBe(true);
    const ignoreCase = {
      detail: { state: [{ 'anything-but': { 'equals-ignore-case': ['initializing', 'stopped'] } }] },
    };
    expect(test(ignoreCase, { detail: { state: 'STOPPED' } })).toBe(false);
    expect(test(ignoreCase, { detail: { state: 'running' } })).toBe(true);
    const wildcard = { detail: { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] } };
    expect(test(wildcard, { detail: { FilePath: '/usr/lib/x.so' } })).toBe(false);
    expect(test(wildcard, { detail: { FilePath: '/usr/bin/x' } })).toBe(true);
  });

  it('numeric matching: c-count, d-count and x-limit (3.018e2)', () => {
    const pattern = {
      detail: {
        'c-count': [{ numeric: ['>', 0, '<=', 5] }],
        'd-count': [{ numeric: ['<', 10] }],
        'x-limit': [{ numeric: ['=', 3.018e2] }],
      },
    };
    expect(test(pattern, { detail: { 'c-count': 5, 'd-count': 7, 'x-limit': 301.8 } })).toBe(true);
    expect(test(pattern, { detail: { 'c-count': 0, 'd-count': 7, 'x-limit': 301.8 } })).toBe(false);
    expect(test(pattern, { detail: { 'c-count': 5, 'd-count': 10, 'x-limit': 301.8 } })).toBe(false);
  });

  it('IP address matching with cidr', () => {
    const pattern = { detail: { sourceIPAddress: [{ cidr: '10.0.0.0/24' }] } };
    expect(test(pattern, { detail: { sourceIPAddress: '10.0.0.255' } })).toBe(true);
    expect(test(pattern, { detail: { sourceIPAddress: '10.0.1.0' } })).toBe(false);
  });

  it('exists matching: state exists / does not exist', () => {
    const event = {
      'detail-type': 'EC2 Instance State-change Notification',
      detail: { 'instance-id': 'i-abcd1111', state: 'pending' },
    };
    expect(test({ detail: { state: [{ exists: true }] } }, event)).toBe(true);
    expect(test({ detail: { state: [{ exists: false }] } }, event)).toBe(false);
    expect(test({ detail: { 'c-count': [{ exists: false }] } }, event)).toBe(true);
  });

  it('equals-ignore-case matching on detail-type', () => {
    const pattern = { 'detail-type': [{ 'equals-ignore-case': 'ec2 instance state-change notification' }] };
    expect(test(pattern, { 'detail-type': 'EC2 Instance State-change Notification' })).toBe(true);
    expect(test(pattern, { 'detail-type': 'EC2 Instance Launch' })).toBe(false);
  });

  it('wildcard matching on an event bus ARN', () => {
    const pattern = { EventBusArn: [{ wildcard: 'arn:aws:events:us-east-1:*:event-bus/*' }] };
    expect(test(pattern, { EventBusArn: 'arn:aws:events:us-east-1:123456789012:event-bus/default' })).toBe(true);
    expect(test(pattern, { EventBusArn: 'arn:aws:events:eu-west-1:123456789012:event-bus/default' })).toBe(false);
  });

  it('complex example with multiple matching', () => {
    const pattern = {
      time: [{ prefix: '2017-10-02' }],
      detail: {
        state: [{ 'anything-but': 'initializing' }],
        'c-count': [{ numeric: ['>', 0, '<=', 5] }],
        'd-count': [{ numeric: ['<', 10] }],
        'x-limit': [{ 'anything-but': [100, 200, 300] }],
      },
    };
    const event = {
      time: '2017-10-02T18:43:48Z',
      detail: { state: 'running', 'c-count': 3, 'd-count': 9, 'x-limit': 150 },
    };
    expect(test(pattern, event)).toBe(true);
    expect(test(pattern, { ...event, detail: { ...event.detail, 'x-limit': 300 } })).toBe(false);
  });

  it('$or matching: any of three numeric conditions', () => {
    const pattern = {
      detail: {
        $or: [
          { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] },
          { 'd-count': [{ numeric: ['<', 10] }] },
          { 'x-limit': [{ numeric: ['=', 3.018e2] }] },
        ],
      },
    };
    expect(test(pattern, { detail: { 'c-count': 50, 'd-count': 50, 'x-limit': 301.8 } })).toBe(true);
    expect(test(pattern, { detail: { 'c-count': 50, 'd-count': 3 } })).toBe(true);
    expect(test(pattern, { detail: { 'c-count': 50, 'd-count': 50, 'x-limit': 1 } })).toBe(false);
  });

  it('$or combined with a sibling field (AND with the OR)', () => {
    const pattern = { source: ['aws.ec2'], $or: [{ 'detail-type': ['A'] }, { 'detail-type': ['B'] }] };
    expect(test(pattern, { source: 'aws.ec2', 'detail-type': 'B' })).toBe(true);
    expect(test(pattern, { source: 'aws.s3', 'detail-type': 'B' })).toBe(false);
  });
});

describe('[OPS] comparison operator table', () => {
  it('And: Location is "New York" and Day is "Monday"', () => {
    const pattern = { Location: ['New York'], Day: ['Monday'] };
    expect(test(pattern, { Location: 'New York', Day: 'Monday' })).toBe(true);
    expect(test(pattern, { Location: 'New York', Day: 'Tuesday' })).toBe(false);
  });

  it('Empty: LastName is empty; Null: UserID is null', () => {
    expect(test({ LastName: [''] }, { LastName: '' })).toBe(true);
    expect(test({ LastName: [''] }, { LastName: 'x' })).toBe(false);
    expect(test({ UserID: [null] }, { UserID: null })).toBe(true);
    expect(test({ UserID: [null] }, {})).toBe(false);
  });

  it('Equals (ignore case): Name is "Alice"', () => {
    expect(test({ Name: [{ 'equals-ignore-case': 'alice' }] }, { Name: 'ALICE' })).toBe(true);
  });

  it('matches when any element of an event array matches (resources)', () => {
    const pattern = { resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f'] };
    const event = {
      resources: [
        'arn:aws:ec2:us-east-1:123456789012:instance/i-0000',
        'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
      ],
    };
    expect(test(pattern, event)).toBe(true);
    expect(test(pattern, { resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-0000'] })).toBe(false);
  });
});

describe('[DDB] DynamoDB stream filter examples', () => {
  const record = {
    eventID: '1',
    eventVersion: '1.0',
    dynamodb: {
      ApproximateCreationDateTime: '1678831218.0',
      Keys: { CustomerName: { S: 'AnyCompany Industries' } },
      NewImage: {
        AccountManager: { S: 'Pat Candella' },
        PaymentTerms: { S: '60 days' },
        CustomerName: { S: 'AnyCompany Industries' },
      },
      SequenceNumber: '111',
      SizeBytes: 26,
      StreamViewType: 'NEW_IMAGE',
    },
  };

  it('filtering with table keys: CustomerName is AnyCompany Industries', () => {
    expect(test({ dynamodb: { Keys: { CustomerName: { S: ['AnyCompany Industries'] } } } }, record)).toBe(true);
    expect(test({ dynamodb: { Keys: { CustomerName: { S: ['Other'] } } } }, record)).toBe(false);
  });

  it('filtering with table attributes: AccountManager is Pat Candella or Shirley Rodriguez', () => {
    const pattern = { dynamodb: { NewImage: { AccountManager: { S: ['Pat Candella', 'Shirley Rodriguez'] } } } };
    expect(test(pattern, record)).toBe(true);
    const other = { ...record, dynamodb: { ...record.dynamodb, NewImage: { AccountManager: { S: 'Someone Else' } } } };
    expect(test(pattern, other)).toBe(false);
  });

  it('AND of two attributes (boolean-expression style)', () => {
    const pattern = {
      dynamodb: { NewImage: { AccountManager: { S: ['Pat Candella'] }, PaymentTerms: { S: ['60 days'] } } },
    };
    expect(test(pattern, record)).toBe(true);
    expect(
      test(
        { dynamodb: { NewImage: { AccountManager: { S: ['Pat Candella'] }, PaymentTerms: { S: ['30 days'] } } } },
        record,
      ),
    ).toBe(false);
  });

  it('exists works on leaf nodes only: test the type key, not the attribute', () => {
    expect(test({ dynamodb: { NewImage: { PaymentTerms: { S: [{ exists: true }] } } } }, record)).toBe(true);
    // PaymentTerms itself is an object ({S: …}), not a leaf, so exists:true on it never matches.
    expect(test({ dynamodb: { NewImage: { PaymentTerms: [{ exists: true }] } } }, record)).toBe(false);
    expect(test({ dynamodb: { NewImage: { StopDate: { S: [{ exists: false }] } } } }, record)).toBe(true);
  });

  it('numbers in images are strings (N), so numeric does not match them', () => {
    const withNumber = { dynamodb: { NewImage: { valueOne: { N: '123' } } } };
    expect(test({ dynamodb: { NewImage: { valueOne: { N: [{ numeric: ['>', 100] }] } } } }, withNumber)).toBe(false);
    expect(test({ dynamodb: { NewImage: { valueOne: { N: ['123'] } } } }, withNumber)).toBe(true);
  });
});

describe('[SYS] the reference design pipe filter', () => {
  it('eventName INSERT or MODIFY drops deletes', () => {
    const pattern = { eventName: ['INSERT', 'MODIFY'] };
    expect(test(pattern, { eventName: 'INSERT' })).toBe(true);
    expect(test(pattern, { eventName: 'MODIFY' })).toBe(true);
    expect(test(pattern, { eventName: 'REMOVE' })).toBe(false);
  });

  it('match down to the type key: siteId S "2"', () => {
    const pattern = { dynamodb: { NewImage: { siteId: { S: ['2'] } } } };
    expect(test(pattern, { dynamodb: { NewImage: { siteId: { S: '2' } } } })).toBe(true);
    expect(test(pattern, { dynamodb: { NewImage: { siteId: { N: '2' } } } })).toBe(false);
  });
});
