import { Match, Template } from 'aws-cdk-lib/assertions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { DEFAULT_VIEW_FILES } from '../../src/views/lake/load-views.js';
import { HandlerCode } from '../lib/lambda/handler-code.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nagRef } from '../lib/nag-acknowledgements.js';
import { synthStack, type SynthResult } from './synth-helpers.js';

let result: SynthResult;
let template: Template;
beforeAll(() => {
  result = synthStack();
  template = Template.fromStack(result.stack);
}, 120_000);
afterAll(() => result?.cleanup());

type Statement = { Action: string | string[]; Resource: unknown; Condition?: unknown };

function updateViews(): { id: string; properties: Record<string, unknown> } {
  const functions = template.findResources('AWS::Lambda::Function', {
    Properties: { Environment: { Variables: { POWERTOOLS_SERVICE_NAME: 'tributary-update-views' } } },
  });
  const [id, resource] = Object.entries(functions)[0]!;
  return { id, properties: resource.Properties as Record<string, unknown> };
}

describe('LakeViewsWriter (the update-views Lambda on AWS)', () => {
  it('synthesises clean under cdk-nag (HIPAA + AwsSolutions)', () => {
    expect(result.error).toBeUndefined();
    expect(result.violations).toEqual([]);
  });

  it('an EventBridge rule sends the export state machine’s SUCCEEDED executions to update-views, with retries and a DLQ', () => {
    const { id } = updateViews();
    const stateMachine = Object.keys(template.findResources('AWS::StepFunctions::StateMachine'))[0]!;
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: { status: ['SUCCEEDED'], stateMachineArn: [{ Ref: stateMachine }] },
      },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [id, 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 7200 },
          DeadLetterConfig: { Arn: Match.anyValue() },
        }),
      ],
    });
  });

  it('an EventBridge rule sends the lake’s S3 Object Created events under changes/ to the same function (current/<table>/), with retries and a DLQ; the lake sends its events to EventBridge', () => {
    const { id } = updateViews();
    const lake = nagRef(result.stack.lakeBucket).slice(1, -1).split('.')[0]!;
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.s3'],
        'detail-type': ['Object Created'],
        detail: { bucket: { name: [{ Ref: lake }] }, object: { key: [{ prefix: 'changes/' }] } },
      },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [id, 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 7200 },
          DeadLetterConfig: { Arn: Match.anyValue() },
        }),
      ],
    });
    template.hasResourceProperties('AWS::S3::Bucket', {
      NotificationConfiguration: { EventBridgeConfiguration: { EventBridgeEnabled: true } },
    });
    // Natively (CloudFormation), not through CDK's bucket-notifications custom resource.
    template.resourceCountIs('Custom::S3BucketNotifications', 0);
  });

  it('runs on x86_64 with the duckdb layer, 1769 MB, 15 min, 2 GiB of /tmp and HOME=/tmp', () => {
    const { properties } = updateViews();
    expect(properties.Architectures).toEqual(['x86_64']);
    expect(properties.MemorySize).toBe(1769);
    expect(properties.Timeout).toBe(900);
    expect(properties.EphemeralStorage).toEqual({ Size: 2048 });
    const layers = template.findResources('AWS::Lambda::LayerVersion', {
      Properties: { CompatibleArchitectures: ['x86_64'] },
    });
    expect(Object.keys(layers)).toHaveLength(1);
    expect(properties.Layers).toEqual([{ Ref: Object.keys(layers)[0] }]);
    const variables = (properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables).toMatchObject({ HOME: '/tmp', LAKE_BUCKET: expect.anything(), LEDGER_TABLE: expect.anything() });
    expect(properties.DeadLetterConfig).toBeDefined();
  });

  it('may read fhir/, views/, changes/ and current/, write views/, _errors/views/ and current/ only, and GetItem on the ledger table', () => {
    const { properties } = updateViews();
    const roleId = (properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const policies = template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: roleId }] },
    });
    const statements = Object.values(policies).flatMap(
      (policy) => (policy.Properties as { PolicyDocument: { Statement: Statement[] } }).PolicyDocument.Statement,
    );
    const lake = nagRef(result.stack.lakeBucket).slice(1, -1).split('.')[0]!;
    const lakeObjects = (...prefixes: string[]) =>
      prefixes.map((prefix) => ({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [lake, 'Arn'] }, `/${prefix}*`]] }));
    const find = (action: string) => statements.filter((s) => [s.Action].flat().includes(action));
    expect(find('s3:GetObject').map((s) => s.Resource)).toEqual([
      lakeObjects('fhir/', 'views/', 'changes/', 'current/'),
    ]);
    expect(find('s3:ListBucket')).toEqual([
      expect.objectContaining({
        Resource: { 'Fn::GetAtt': [lake, 'Arn'] },
        Condition: { StringLike: { 's3:prefix': ['fhir/*', 'views/*', 'changes/*', 'current/*'] } },
      }),
    ]);
    for (const action of ['s3:PutObject', 's3:DeleteObject'])
      expect(find(action).map((s) => s.Resource)).toEqual([lakeObjects('views/', '_errors/views/', 'current/')]);
    const ledger = Object.keys(template.findResources('AWS::DynamoDB::Table')).find((tableId) =>
      tableId.includes('Ledger'),
    )!;
    expect(find('dynamodb:GetItem').map((s) => s.Resource)).toEqual([{ 'Fn::GetAtt': [ledger, 'Arn'] }]);
    expect(statements.flatMap((s) => [s.Action].flat()).filter((a) => a.startsWith('dynamodb:'))).toEqual([
      'dynamodb:GetItem',
    ]);
  });

  it('ships the config’s ViewDefinitions in the function’s asset, views/<nnn>-<file>.json beside index.mjs', () => {
    const dist = mkdtempSync(join(tmpdir(), 'tributary-views-asset-'));
    try {
      mkdirSync(join(dist, 'update-views'));
      writeFileSync(join(dist, 'update-views', 'index.mjs'), 'export const handler = async () => ({});\n');
      const files = Object.fromEntries(
        DEFAULT_VIEW_FILES.map((file, index) => [`views/00${index}-${basename(file)}`, readFileSync(file, 'utf8')]),
      );
      const code = HandlerCode.fromDist(dist).code('update-views', files) as lambda.AssetCode;
      expect(readdirSync(code.path).sort()).toEqual(['index.mjs', 'views']);
      expect(readdirSync(join(code.path, 'views'))).toEqual([
        '000-patient.json',
        '001-observation.json',
        '002-condition.json',
        '003-encounter.json',
      ]);
      rmSync(code.path, { recursive: true, force: true });
    } finally {
      rmSync(dist, { recursive: true, force: true });
    }
  });
});
