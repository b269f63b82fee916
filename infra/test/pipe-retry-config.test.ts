import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import type { TableConfig } from '../../src/config/schema.js';
import { ChangeStreamToLake } from '../lib/change-stream-to-lake.js';
import { HandlerCode } from '../lib/lambda/handler-code.js';
import { constructStack } from './construct-helpers.js';
import { fixtureConfig } from './synth-helpers.js';

function retriesOf(table: TableConfig): unknown {
  const { stack, key, lake } = constructStack();
  new ChangeStreamToLake(stack, 'Changes', {
    table,
    lakeBucket: lake,
    handlerCode: HandlerCode.placeholder(),
    encryptionKey: key,
  });
  const pipes = Template.fromStack(stack).findResources('AWS::Pipes::Pipe');
  const [pipe] = Object.values(pipes) as Array<{
    Properties: { SourceParameters: { DynamoDBStreamParameters: { MaximumRetryAttempts?: unknown } } };
  }>;
  return pipe?.Properties.SourceParameters.DynamoDBStreamParameters.MaximumRetryAttempts;
}

describe('pipe.maximumRetryAttempts in the CDK pipe', () => {
  const visits = (): TableConfig => fixtureConfig().tables.find((table) => table.name === 'visits')!;

  // One synth only (they are slow); unset, the construct keeps its default of 10.
  it('is the same config field the local pipes use', () => {
    const table = visits();
    expect(retriesOf({ ...table, pipe: { ...table.pipe!, maximumRetryAttempts: 2 } })).toBe(2);
  });
});
