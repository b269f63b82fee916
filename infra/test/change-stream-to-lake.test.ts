import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { TableConfig } from '../../src/config/schema.js';
import { ChangeStreamToLake, firehoseBuffering, firehosePrefix } from '../lib/change-stream-to-lake.js';
import { HandlerCode } from '../lib/lambda/handler-code.js';
import { constructStack } from './construct-helpers.js';
import { fixtureConfig } from './synth-helpers.js';
import { lambdaEnvironment } from './template-helpers.js';
import { loadFirehoseTransformConfig } from '../../src/change-stream/firehose-transform-config.js';

const visits = (): TableConfig => fixtureConfig().tables.find((table) => table.name === 'visits')!;

function synth(table: TableConfig, extra: { existingStreamArn?: string } = {}) {
  const { stack, key, lake } = constructStack();
  const existingTable = extra.existingStreamArn
    ? dynamodb.Table.fromTableAttributes(stack, 'Existing', {
        tableName: table.name,
        tableStreamArn: extra.existingStreamArn,
      })
    : undefined;
  const construct = new ChangeStreamToLake(stack, 'Changes', {
    table,
    lakeBucket: lake,
    handlerCode: HandlerCode.placeholder(),
    encryptionKey: key,
    ...(existingTable ? { existingTable } : {}),
  });
  return { construct, template: Template.fromStack(stack) };
}

describe('ChangeStreamToLake', () => {
  let template: Template;
  beforeAll(() => {
    template = synth(visits()).template;
  });

  it('creates the table, pipe, delivery stream, transform Lambda and DLQ', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.resourceCountIs('AWS::Pipes::Pipe', 1);
    template.resourceCountIs('AWS::KinesisFirehose::DeliveryStream', 1);
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.resourceCountIs('AWS::SQS::Queue', 1);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: 'visits',
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      BillingMode: 'PAY_PER_REQUEST',
    });
  });

  it("sets the pipe's FilterCriteria to exactly the config's filter, one Pattern per pattern", () => {
    const filter = visits().pipe!.filter;
    template.hasResourceProperties('AWS::Pipes::Pipe', {
      SourceParameters: {
        FilterCriteria: { Filters: filter.map((pattern) => ({ Pattern: JSON.stringify(pattern) })) },
        DynamoDBStreamParameters: {
          StartingPosition: 'TRIM_HORIZON',
          BatchSize: 100,
          MaximumBatchingWindowInSeconds: 0,
          DeadLetterConfig: { Arn: Match.anyValue() },
          OnPartialBatchItemFailure: 'AUTOMATIC_BISECT',
        },
      },
      LogConfiguration: { Level: 'ERROR' },
    });
  });

  it('partitions the Firehose prefix by the configured keys, with dynamic partitioning, the transform and buffering', () => {
    template.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      ExtendedS3DestinationConfiguration: Match.objectLike({
        Prefix:
          'changes/visits/siteId=!{partitionKeyFromLambda:siteId}/year=!{partitionKeyFromLambda:year}/month=!{partitionKeyFromLambda:month}/day=!{partitionKeyFromLambda:day}/',
        ErrorOutputPrefix:
          '_errors/changes-visits/!{firehose:error-output-type}/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/',
        DynamicPartitioningConfiguration: { Enabled: true, RetryOptions: { DurationInSeconds: 300 } },
        BufferingHints: { IntervalInSeconds: 120, SizeInMBs: 64 },
        CompressionFormat: 'GZIP',
        ProcessingConfiguration: { Enabled: true, Processors: [Match.objectLike({ Type: 'Lambda' })] },
        EncryptionConfiguration: { KMSEncryptionConfig: { AWSKMSKeyARN: Match.anyValue() } },
      }),
    });
  });

  it('gives the transform an environment its own config loader accepts, naming the same partitions', () => {
    const env = lambdaEnvironment(template, 'ChangesTransform');
    const loaded = loadFirehoseTransformConfig(env);
    expect(loaded.name).toBe('visits');
    expect(loaded.pipe?.partitionBy).toEqual(['siteId', 'year', 'month', 'day']);
    expect(loaded.pipe?.eventTime).toEqual({ attribute: 'createdAtTime', unit: 'ms' });
    expect(loaded.ttlAttribute).toBe('expiresAt');
  });

  it('raises small buffers to the 64 MiB dynamic-partitioning minimum and clamps the interval', () => {
    expect(firehoseBuffering({ flushSeconds: 2, flushMiB: 5 })).toEqual({ intervalInSeconds: 60, sizeInMBs: 64 });
    expect(firehoseBuffering({ flushSeconds: 900, flushMiB: 100 })).toEqual({ intervalInSeconds: 900, sizeInMBs: 100 });
    expect(firehosePrefix('visits', ['year'])).toBe('changes/visits/year=!{partitionKeyFromLambda:year}/');
  });

  it('captures an existing table by stream ARN without creating one', () => {
    const streamArn = 'arn:aws:dynamodb:eu-west-1:123456789012:table/visits/stream/2024-01-01T00:00:00.000';
    const { template: existing } = synth(visits(), { existingStreamArn: streamArn });
    existing.resourceCountIs('AWS::DynamoDB::Table', 0);
    existing.hasResourceProperties('AWS::Pipes::Pipe', { Source: streamArn });
  });

  it('omits FilterCriteria when the config has no filter (everything passes, as locally)', () => {
    const table = parseConfig({ tables: [{ name: 'notes', partitionKey: 'id', pipe: {} }] }).tables[0]!;
    const { template: unfiltered } = synth(table);
    const pipe = Object.values(unfiltered.findResources('AWS::Pipes::Pipe'))[0] as {
      Properties: { SourceParameters: Record<string, unknown> };
    };
    expect(pipe.Properties.SourceParameters.FilterCriteria).toBeUndefined();
  });

  it('rejects a filter the Pipes compiler rejects, naming the table and pattern', () => {
    // A config that bypassed parseConfig (constructs are also used without it).
    const valid = parseConfig({ tables: [{ name: 'notes', partitionKey: 'id', pipe: {} }] }).tables[0]!;
    const table: TableConfig = { ...valid, pipe: { ...valid.pipe!, filter: [{ eventName: 'INSERT' }] } };
    expect(() => synth(table)).toThrow(/tables\.notes\.pipe\.filter.*filter\[0\]/);
  });

  it('rejects a batch larger than the Firehose target accepts', () => {
    const table = parseConfig({ tables: [{ name: 'notes', partitionKey: 'id', pipe: { batchSize: 1000 } }] })
      .tables[0]!;
    expect(() => synth(table)).toThrow(/batchSize 1000 exceeds 500/);
  });
});
