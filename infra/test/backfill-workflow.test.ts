import { Template } from 'aws-cdk-lib/assertions';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backfillEnvSchema, backfillTriggerEnvSchema } from '../../src/backfill/handler-env.js';
import {
  BACKFILL_STATES,
  BACKFILL_WORKFLOW_ASL_PATH,
  BACKFILL_WORKFLOW_SUBSTITUTIONS,
  loadBackfillWorkflow,
} from '../../src/backfill/workflow-definition.js';
import { LOCAL_BACKFILL_RESOURCES } from '../../src/backfill/local-workflow.js';
import { BACKFILL_STATE_MACHINE_OUTPUT } from '../lib/backfill-workflow.js';
import { synthStack, type SynthResult } from './synth-helpers.js';
import { iamStatements, lambdaEnvironment, resourcesOf, type CfnResource } from './template-helpers.js';

const require = createRequire(import.meta.url);
const aslValidator = require('asl-validator') as (definition: unknown) => {
  isValid: boolean;
  errorsText: (separator?: string) => string;
};

type State = Record<string, unknown> & {
  Type: string;
  Resource?: string;
  Next?: string;
  Default?: string;
  Catch?: unknown[];
  ItemProcessor?: { States: Record<string, State> };
};

const json = (value: unknown) => JSON.stringify(value);

describe('BackfillWorkflow: the backfill/repair state machine, its Lambdas and the DLQ trigger', () => {
  let nagged: SynthResult;
  let template: Template;
  let machine: CfnResource;
  let asl: { StartAt: string; States: Record<string, State> };

  beforeAll(() => {
    nagged = synthStack({ nag: true });
    template = Template.fromStack(nagged.stack);
    const machines = Object.values(resourcesOf(template, 'AWS::StepFunctions::StateMachine')).filter((m) =>
      json(m.Properties?.DefinitionSubstitutions ?? {}).includes('BackfillFunctionArn'),
    );
    expect(machines).toHaveLength(1);
    machine = machines[0]!;
    asl = JSON.parse(machine.Properties!.DefinitionString as string) as typeof asl;
  });
  afterAll(() => nagged.cleanup());

  it('deploys the committed ASL itself, with only the function and the bus substituted', () => {
    expect(asl).toEqual(JSON.parse(readFileSync(BACKFILL_WORKFLOW_ASL_PATH, 'utf8')));
    expect(Object.keys(machine.Properties!.DefinitionSubstitutions as object).sort()).toEqual(
      [...BACKFILL_WORKFLOW_SUBSTITUTIONS].sort(),
    );
    // The local executor runs the same text with local values for the same placeholders.
    expect(json(loadBackfillWorkflow(LOCAL_BACKFILL_RESOURCES))).not.toContain('${');
    const valid = aslValidator(
      loadBackfillWorkflow({ BackfillFunctionArn: 'arn:aws:lambda:eu-west-1:1:function:f', EventBusName: 'bus' }),
    );
    expect(valid.isValid, valid.errorsText('\n')).toBe(true);
    expect(machine.Properties).toMatchObject({
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false },
    });
  });

  it('exports point in time, polls DescribeExport in a bounded wait loop, and maps over manifest-files.json as JSONL', () => {
    const { States } = asl;
    expect(asl.StartAt).toBe(BACKFILL_STATES.plan);
    expect(States.Plan!.Resource).toBe('arn:aws:states:::lambda:invoke');
    for (const name of [BACKFILL_STATES.exportFull, BACKFILL_STATES.exportIncremental]) {
      expect(States[name]!.Resource).toBe('arn:aws:states:::aws-sdk:dynamodb:exportTableToPointInTime');
      expect(json(States[name]!.Retry)).toContain('DynamoDb.LimitExceededException');
      expect(States[name]!.Next).toBe(BACKFILL_STATES.describeExport);
    }
    expect(States.ExportFull!.Parameters).toMatchObject({
      ExportType: 'FULL_EXPORT',
      'ExportTime.$': '$.plan.exportTime',
    });
    expect(States.ExportIncremental!.Parameters).toMatchObject({
      ExportType: 'INCREMENTAL_EXPORT',
      IncrementalExportSpecification: { 'ExportFromTime.$': '$.plan.exportFromTime' },
    });
    expect(States.DescribeExport!.Resource).toBe('arn:aws:states:::aws-sdk:dynamodb:describeExport');
    // The loop: DescribeExport → status? → CountPoll → PollsLeft? → WaitForExport → DescribeExport, or ExportTimedOut.
    expect(States['ExportStatus?']!.Default).toBe('CountPoll');
    expect(States.CountPoll!.Next).toBe('PollsLeft?');
    expect(States['PollsLeft?']).toMatchObject({
      Default: BACKFILL_STATES.waitForExport,
      Choices: [{ NumericGreaterThanPath: '$.plan.maxPolls', Next: 'ExportTimedOut' }],
    });
    expect(States.WaitForExport).toMatchObject({
      Type: 'Wait',
      SecondsPath: '$.plan.pollSeconds',
      Next: 'DescribeExport',
    });
    expect(States.ExportTimedOut!.Next).toBe(BACKFILL_STATES.publishFailure);
    const map = States.LandFiles!;
    expect(map).toMatchObject({
      Type: 'Map',
      ItemReader: { Resource: 'arn:aws:states:::s3:getObject', ReaderConfig: { InputType: 'JSONL' } },
      ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' } },
      ResultWriter: { Resource: 'arn:aws:states:::s3:putObject' },
    });
    expect(map.ItemProcessor!.States.LandFile!.Resource).toBe('arn:aws:states:::lambda:invoke');
    expect(States.PublishCompleted!.Resource).toBe('arn:aws:states:::events:putEvents');
    // Every top-level Task and the Map end in PublishFailure → BackfillFailed on any error.
    for (const [name, state] of Object.entries(States)) {
      if (state.Type !== 'Task' && state.Type !== 'Map') continue;
      expect(state.Catch, name).toBeDefined();
    }
    expect(States.BackfillFailed).toMatchObject({ Type: 'Fail', Error: 'Backfill.Failed' });
  });

  it('grants the state machine exports of the configured tables, the export prefix, the function, the bus and the key', () => {
    const roleId = Object.keys(resourcesOf(template, 'AWS::IAM::Role')).find((id) =>
      id.startsWith('BackfillWorkflowRole'),
    )!;
    const statements = iamStatements(template).filter((s) => s.owner.startsWith('BackfillWorkflowRole'));
    expect(roleId).toBeDefined();
    const of = (action: string) => statements.filter((s) => s.Action.includes(action));
    const visits = Object.keys(resourcesOf(template, 'AWS::DynamoDB::Table')).find((id) =>
      id.startsWith('Changesvisits'),
    )!;
    expect(of('dynamodb:ExportTableToPointInTime').map((s) => s.Resource)).toEqual([
      [{ 'Fn::GetAtt': [visits, 'Arn'] }],
    ]);
    expect(json(of('dynamodb:DescribeExport')[0]!.Resource)).toContain('/export/*');
    const s3 = of('s3:PutObject');
    expect(s3).toHaveLength(1);
    expect(s3[0]!.Action.sort()).toEqual([
      's3:AbortMultipartUpload',
      's3:GetObject',
      's3:PutObject',
      's3:PutObjectAcl',
    ]);
    expect(json(s3[0]!.Resource)).toContain('/exports/dynamodb/*');
    expect(of('lambda:InvokeFunction')[0]!.Resource).toHaveLength(1);
    expect(of('events:PutEvents')).toHaveLength(1);
    expect(of('kms:GenerateDataKey')).toHaveLength(1);
    // No wildcard actions, and the table actions nowhere else.
    for (const s of iamStatements(template))
      expect(
        s.Action.some((a) => a.endsWith(':*') || a === '*'),
        s.owner,
      ).toBe(false);
    expect(
      iamStatements(template)
        .filter((s) => s.Action.includes('dynamodb:ExportTableToPointInTime'))
        .every((s) => s.owner.startsWith('BackfillWorkflowRole')),
    ).toBe(true);
  });

  it('the backfill Lambda reads the export prefix and writes only the table lake prefixes; its environment parses', () => {
    const statements = iamStatements(template).filter((s) => s.owner.startsWith('BackfillRole'));
    expect(statements.find((s) => s.Action.includes('dynamodb:DescribeContinuousBackups'))).toBeDefined();
    expect(json(statements.find((s) => s.Action.join() === 's3:GetObject')?.Resource)).toContain('/exports/dynamodb/*');
    const lake = statements.find((s) => s.Action.includes('s3:PutObject'))!;
    expect(json(lake.Resource)).toContain('/changes/visits/*');
    expect(json(lake.Resource)).toContain('/_errors/backfill-visits/*');
    expect(json(lake.Resource)).not.toContain('patients');
    expect(backfillEnvSchema.safeParse(lambdaEnvironment(template, 'BackfillFunction')).success).toBe(true);
    const tables = JSON.parse(lambdaEnvironment(template, 'BackfillFunction').BACKFILL_TABLES!) as Array<{
      name: string;
      keyAttributes: string[];
      partitionBy: string[];
    }>;
    expect(tables.map((t) => [t.name, t.keyAttributes, t.partitionBy])).toEqual([
      ['visits', ['id'], ['siteId', 'year', 'month', 'day']],
    ]);
  });

  it('a schedule runs the trigger, which may peek at the pipe DLQ and start this state machine only', () => {
    const triggerEnv = lambdaEnvironment(template, 'BackfillTriggerFunction');
    expect(backfillTriggerEnvSchema.safeParse(triggerEnv).success).toBe(true);
    const rules = Object.values(resourcesOf(template, 'AWS::Events::Rule')).filter(
      (r) => r.Properties?.ScheduleExpression === 'rate(5 minutes)',
    );
    expect(rules).toHaveLength(1);
    const target = (rules[0]!.Properties!.Targets as Array<Record<string, unknown>>)[0]!;
    expect(json(target.Arn)).toContain('BackfillTriggerFunction');
    expect(target.DeadLetterConfig).toBeDefined();
    const statements = iamStatements(template).filter((s) => s.owner.startsWith('BackfillTriggerRole'));
    const sqs = statements.find((s) => s.Action.includes('sqs:ReceiveMessage'))!;
    expect(sqs.Action.sort()).toEqual(['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:ReceiveMessage']);
    const dlq = Object.keys(resourcesOf(template, 'AWS::SQS::Queue')).find((id) =>
      id.startsWith('ChangesvisitsPipeDlq'),
    )!;
    expect(sqs.Resource).toEqual([{ 'Fn::GetAtt': [dlq, 'Arn'] }]);
    const start = statements.find((s) => s.Action.includes('states:StartExecution'))!;
    expect(json(start.Resource)).toContain('BackfillStateMachine');
  });

  it('outputs the state machine ARN for `tributary backfill --aws`', () => {
    expect(Object.keys(template.toJSON().Outputs as object)).toContain(BACKFILL_STATE_MACHINE_OUTPUT);
  });

  it('is cdk-nag clean (HIPAA Security and AWS Solutions), acknowledging only scoped findings', () => {
    expect(nagged.error).toBeUndefined();
    expect(nagged.violations).toEqual([]);
  });
});
