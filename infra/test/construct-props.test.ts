import { type CfnElement, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as pipes from 'aws-cdk-lib/aws-pipes';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IConstruct } from 'constructs';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import type { TableConfig } from '../../src/config/schema.js';
import { ChangeStreamToLake, type ChangeStreamToLakeProps } from '../lib/change-stream-to-lake.js';
import { HealthLakeExportPipeline, type HealthLakeExportPipelineProps } from '../lib/healthlake-export-pipeline.js';
import { HandlerCode } from '../lib/lambda/handler-code.js';
import { PatientEnrichmentPipe, type PatientEnrichmentPipeProps } from '../lib/patient-enrichment-pipe.js';
import { constructStack } from './construct-helpers.js';
import { fixtureConfig } from './synth-helpers.js';
import { iamStatements, resourcesOf } from './template-helpers.js';

const LIB = join(dirname(fileURLToPath(import.meta.url)), '..', 'lib');
/** Props interfaces other parts of the team own (export-workflow/). */
const NOT_HERE = new Set(['export-workflow']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return NOT_HERE.has(name) ? [] : sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** Every member of every exported `*Props` interface in infra/lib, with its TSDoc. */
function propsMembers(): Array<{ where: string; optional: boolean; doc: string }> {
  const members: Array<{ where: string; optional: boolean; doc: string }> = [];
  for (const file of sourceFiles(LIB)) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    for (const statement of source.statements) {
      if (!ts.isInterfaceDeclaration(statement) || !statement.name.text.endsWith('Props')) continue;
      if (!statement.modifiers?.some((modifier) => modifier.kind === ts.SyntaxKind.ExportKeyword)) continue;
      for (const member of statement.members) {
        if (!ts.isPropertySignature(member)) continue;
        const doc = ts
          .getJSDocCommentsAndTags(member)
          .map((node) => node.getText(source))
          .join('\n');
        members.push({
          where: `${relative(LIB, file)} ${statement.name.text}.${member.name.getText(source)}`,
          optional: member.questionToken !== undefined,
          doc,
        });
      }
    }
  }
  return members;
}

/** The logical id of a construct's CloudFormation resource. */
const logicalIdOf = (construct: IConstruct): string =>
  Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnElement);

const table = (name: string): TableConfig => fixtureConfig().tables.find((entry) => entry.name === name)!;

describe('construct props in the AWS Solutions Constructs style', () => {
  it('documents every prop, and every optional prop with a @default tag', () => {
    const members = propsMembers();
    expect(members.length).toBeGreaterThan(60);
    const undocumented = members.filter((member) => !member.doc.trim()).map((member) => member.where);
    const withoutDefault = members
      .filter((member) => member.optional && !/@default\b/.test(member.doc))
      .map((member) => member.where);
    expect(undocumented).toEqual([]);
    expect(withoutDefault).toEqual([]);
  });

  it('rejects each existingX given together with its xProps', () => {
    const { stack, key, lake, accessLogs } = constructStack();
    const handlerCode = HandlerCode.placeholder();
    const fn = lambda.Function.fromFunctionArn(stack, 'Fn', 'arn:aws:lambda:eu-west-1:123456789012:function:f');
    const existingTable = dynamodb.Table.fromTableAttributes(stack, 'T', {
      tableName: 'visits',
      tableStreamArn: 'arn:aws:dynamodb:eu-west-1:123456789012:table/visits/stream/2024-01-01T00:00:00.000',
    });
    const stream = firehose.DeliveryStream.fromDeliveryStreamName(stack, 'Stream', 'existing');
    const bus = events.EventBus.fromEventBusName(stack, 'Bus', 'existing');
    const existingPipe = new pipes.CfnPipe(stack, 'Pipe', {
      roleArn: 'arn:aws:iam::123456789012:role/r',
      source: 's',
      target: 't',
    });
    const changes: ChangeStreamToLakeProps = {
      table: table('visits'),
      lakeBucket: lake,
      handlerCode,
      encryptionKey: key,
    };
    const patients: PatientEnrichmentPipeProps = { table: table('patients'), handlerCode, encryptionKey: key };
    const exports: HealthLakeExportPipelineProps = {
      handlerCode,
      encryptionKey: key,
      lakeBucket: lake,
      serverAccessLogsBucket: accessLogs,
    };
    const cases: Array<[string, () => unknown]> = [
      [
        'existingTable or tableProps',
        () => new ChangeStreamToLake(stack, 'C1', { ...changes, existingTable, tableProps: {} }),
      ],
      [
        'existingTransformFunction or transformFunctionProps',
        () =>
          new ChangeStreamToLake(stack, 'C2', {
            ...changes,
            existingTransformFunction: fn,
            transformFunctionProps: {},
          }),
      ],
      [
        'existingDeliveryStream or deliveryStreamProps',
        () =>
          new ChangeStreamToLake(stack, 'C3', { ...changes, existingDeliveryStream: stream, deliveryStreamProps: {} }),
      ],
      [
        'existingPipe or pipeProps',
        () => new ChangeStreamToLake(stack, 'C4', { ...changes, existingPipe, pipeProps: {} }),
      ],
      [
        'existingTable or tableProps',
        () => new PatientEnrichmentPipe(stack, 'P1', { ...patients, existingTable, tableProps: {} }),
      ],
      [
        'existingEventBus or eventBusProps',
        () => new PatientEnrichmentPipe(stack, 'P2', { ...patients, existingEventBus: bus, eventBusProps: {} }),
      ],
      [
        'existingEnrichmentFunction or enrichmentFunctionProps',
        () =>
          new PatientEnrichmentPipe(stack, 'P3', {
            ...patients,
            existingEnrichmentFunction: fn,
            enrichmentFunctionProps: {},
          }),
      ],
      [
        'existingPipe or pipeProps',
        () => new PatientEnrichmentPipe(stack, 'P4', { ...patients, existingPipe, pipeProps: {} }),
      ],
      [
        'existingLedgerTable or ledgerTableProps',
        () =>
          new HealthLakeExportPipeline(stack, 'E1', {
            ...exports,
            existingLedgerTable: existingTable,
            ledgerTableProps: {},
          }),
      ],
      [
        'existingExportBucket or exportBucketProps',
        () =>
          new HealthLakeExportPipeline(stack, 'E2', {
            ...exports,
            existingExportBucket: s3.Bucket.fromBucketName(stack, 'B', 'existing-exports'),
            exportBucketProps: {},
          }),
      ],
      [
        'existingEventBus or eventBusProps',
        () => new HealthLakeExportPipeline(stack, 'E3', { ...exports, existingEventBus: bus, eventBusProps: {} }),
      ],
      [
        'existingDatastoreId or datastoreProps',
        () =>
          new HealthLakeExportPipeline(stack, 'E4', {
            ...exports,
            existingDatastoreId: '0123456789abcdef0123456789abcdef',
            datastoreProps: {},
          }),
      ],
      [
        'existingRunLedgerFunction or runLedgerFunctionProps',
        () =>
          new HealthLakeExportPipeline(stack, 'E5', {
            ...exports,
            existingRunLedgerFunction: fn,
            runLedgerFunctionProps: {},
          }),
      ],
      [
        'existingStartExportFunction or startExportFunctionProps',
        () =>
          new HealthLakeExportPipeline(stack, 'E6', {
            ...exports,
            existingStartExportFunction: fn,
            startExportFunctionProps: {},
          }),
      ],
      [
        'existingCheckExportFunction or checkExportFunctionProps',
        () =>
          new HealthLakeExportPipeline(stack, 'E7', {
            ...exports,
            existingCheckExportFunction: fn,
            checkExportFunctionProps: {},
          }),
      ],
      [
        'existingProcessFileFunction or processFileFunctionProps',
        () =>
          new HealthLakeExportPipeline(stack, 'E8', {
            ...exports,
            existingProcessFileFunction: fn,
            processFileFunctionProps: {},
          }),
      ],
    ];
    for (const [pair, build] of cases) expect(build, pair).toThrow(`give ${pair}, not both`);
  });

  it('uses an existing delivery stream and pipe as given, creating neither (nor a transform)', () => {
    const { stack, key, lake } = constructStack();
    const stream = firehose.DeliveryStream.fromDeliveryStreamName(stack, 'Stream', 'existing-stream');
    const construct = new ChangeStreamToLake(stack, 'Changes', {
      table: table('visits'),
      lakeBucket: lake,
      handlerCode: HandlerCode.placeholder(),
      encryptionKey: key,
      existingDeliveryStream: stream,
      pipeProps: { name: 'visits-to-lake', desiredState: 'STOPPED' },
    });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::KinesisFirehose::DeliveryStream', 0);
    template.resourceCountIs('AWS::Lambda::Function', 0);
    template.hasResourceProperties('AWS::Pipes::Pipe', {
      Name: 'visits-to-lake',
      DesiredState: 'STOPPED',
      Target: {
        'Fn::Join': [
          '',
          ['arn:', { Ref: 'AWS::Partition' }, ':firehose:eu-west-1:123456789012:deliverystream/existing-stream'],
        ],
      },
    });
    expect(construct.transformFunction).toBeUndefined();
  });

  it('uses existing export functions as given: the state machine invokes them, the queues trigger them, the status rule targets run-ledger, their role gets the grants, and no TributaryFunction is created', () => {
    const { stack, key, lake, accessLogs } = constructStack();
    const role = new iam.Role(stack, 'CallerRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    const arnOf = (name: string) => `arn:aws:lambda:eu-west-1:123456789012:function:${name}`;
    const imported = (name: string) =>
      lambda.Function.fromFunctionAttributes(stack, name, { functionArn: arnOf(name), sameEnvironment: true, role });
    const existing = {
      existingRunLedgerFunction: imported('my-run-ledger'),
      existingStartExportFunction: imported('my-start-export'),
      existingCheckExportFunction: imported('my-check-export'),
      existingProcessFileFunction: imported('my-process-file'),
    };
    const pipeline = new HealthLakeExportPipeline(stack, 'Export', {
      handlerCode: HandlerCode.placeholder(),
      encryptionKey: key,
      lakeBucket: lake,
      serverAccessLogsBucket: accessLogs,
      ...existing,
    });
    const template = Template.fromStack(stack);

    template.resourceCountIs('AWS::Lambda::Function', 0);
    expect([pipeline.runLedger, pipeline.startExport, pipeline.checkExport, pipeline.processFile]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    expect(pipeline.runLedgerFunction).toBe(existing.existingRunLedgerFunction);
    expect(pipeline.processFileFunction).toBe(existing.existingProcessFileFunction);

    const [machine] = Object.values(resourcesOf(template, 'AWS::StepFunctions::StateMachine'));
    const definition = JSON.stringify(machine?.Properties?.DefinitionString);
    expect(definition).toContain(arnOf('my-run-ledger'));
    expect(definition).toContain(arnOf('my-process-file'));

    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: 'my-start-export',
      EventSourceArn: { 'Fn::GetAtt': [logicalIdOf(pipeline.startQueue.queue), 'Arn'] },
      BatchSize: 1,
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: 'my-check-export',
      EventSourceArn: { 'Fn::GetAtt': [logicalIdOf(pipeline.recheckQueue.queue), 'Arn'] },
      BatchSize: 1,
    });

    const statusRule = Object.values(resourcesOf(template, 'AWS::Events::Rule')).find((rule) =>
      JSON.stringify(rule.Properties?.EventPattern).includes('Step Functions Execution Status Change'),
    );
    expect(JSON.stringify(statusRule?.Properties?.Targets)).toContain(arnOf('my-run-ledger'));
    template.hasResourceProperties('AWS::Lambda::Permission', {
      FunctionName: arnOf('my-run-ledger'),
      Principal: 'events.amazonaws.com',
    });

    const callerActions = iamStatements(template)
      .filter((statement) => statement.owner.startsWith('CallerRole'))
      .flatMap((statement) => statement.Action);
    for (const action of [
      'dynamodb:ConditionCheckItem',
      'states:DescribeExecution',
      'healthlake:StartFHIRExportJobWithPost',
      'iam:PassRole',
      'healthlake:CancelFHIRExportJobWithDelete',
      'states:SendTaskSuccess',
      'sqs:ReceiveMessage',
      'events:PutEvents',
      'kms:GenerateDataKey',
    ])
      expect(callerActions, action).toContain(action);
  });

  it('replaces only the function given: a new lambda.Function as start-export gets the start queue and its grants, the other three stay TributaryFunctions', () => {
    const { stack, key, lake, accessLogs } = constructStack();
    const mine = new lambda.Function(stack, 'MyStartExport', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => ({});'),
    });
    const pipeline = new HealthLakeExportPipeline(stack, 'Export', {
      handlerCode: HandlerCode.placeholder(),
      encryptionKey: key,
      lakeBucket: lake,
      serverAccessLogsBucket: accessLogs,
      existingStartExportFunction: mine,
    });
    const template = Template.fromStack(stack);
    const functionIds = Object.keys(resourcesOf(template, 'AWS::Lambda::Function'));
    expect(functionIds.filter((id) => id.startsWith('ExportStartExport'))).toEqual([]);
    for (const kind of ['ExportRunLedger', 'ExportCheckExport', 'ExportProcessFile'])
      expect(
        functionIds.filter((id) => id.startsWith(kind)),
        kind,
      ).toHaveLength(1);
    expect(pipeline.startExport).toBeUndefined();
    expect(pipeline.startExportFunction).toBe(mine);
    expect(pipeline.checkExport?.function).toBe(pipeline.checkExportFunction);

    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: logicalIdOf(mine) },
      EventSourceArn: { 'Fn::GetAtt': [logicalIdOf(pipeline.startQueue.queue), 'Arn'] },
      ScalingConfig: { MaximumConcurrency: 2 },
    });
    const mineActions = iamStatements(template)
      .filter((statement) => statement.owner.startsWith('MyStartExportServiceRole'))
      .flatMap((statement) => statement.Action);
    for (const action of [
      'healthlake:StartFHIRExportJob',
      'iam:PassRole',
      'sqs:SendMessage',
      'dynamodb:PutItem',
      'states:SendTaskFailure',
      'kms:Decrypt',
    ])
      expect(mineActions, action).toContain(action);
    // The environment the construct would have set, for the caller to apply.
    expect(pipeline.functionEnvironments.startExport).toHaveProperty('RECHECK_QUEUE_URL');
  });

  it('warns when an existing function has no role to grant to', () => {
    const { stack, key, lake, accessLogs } = constructStack();
    new HealthLakeExportPipeline(stack, 'Export', {
      handlerCode: HandlerCode.placeholder(),
      encryptionKey: key,
      lakeBucket: lake,
      serverAccessLogsBucket: accessLogs,
      existingProcessFileFunction: lambda.Function.fromFunctionArn(
        stack,
        'Imported',
        'arn:aws:lambda:eu-west-1:123456789012:function:process',
      ),
    });
    const warnings = Annotations.fromStack(stack)
      .findWarning('*', Match.stringLikeRegexp('existingProcessFileFunction'))
      .map((entry) => String(entry.entry.data));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/no role.*docs\/DEPLOY\.md/);
  });

  it('applies function props to the new functions (reserved concurrency opt-in per function)', () => {
    const { stack, key, lake, accessLogs } = constructStack();
    const handlerCode = HandlerCode.placeholder();
    new ChangeStreamToLake(stack, 'Changes', {
      table: table('visits'),
      lakeBucket: lake,
      handlerCode,
      encryptionKey: key,
      transformFunctionProps: { reservedConcurrentExecutions: 3, memorySize: 512 },
    });
    new HealthLakeExportPipeline(stack, 'Export', {
      handlerCode,
      encryptionKey: key,
      lakeBucket: lake,
      serverAccessLogsBucket: accessLogs,
      processFileFunctionProps: { reservedConcurrentExecutions: 7 },
      exportQueueMaxConcurrency: 5,
      ledgerTableProps: { tableName: 'runs' },
    });
    const template = Template.fromStack(stack);
    const reserved = Object.values(resourcesOf(template, 'AWS::Lambda::Function'))
      .map((fn) => fn.Properties?.ReservedConcurrentExecutions)
      .filter((value) => value !== undefined)
      .sort();
    expect(reserved).toEqual([3, 7]);
    template.hasResourceProperties('AWS::Lambda::Function', { MemorySize: 512, ReservedConcurrentExecutions: 3 });
    template.hasResourceProperties('AWS::DynamoDB::Table', { TableName: 'runs' });
    for (const mapping of Object.values(resourcesOf(template, 'AWS::Lambda::EventSourceMapping')))
      expect(mapping.Properties?.ScalingConfig).toEqual({ MaximumConcurrency: 5 });
    // Both buses would be encrypted; this one is the export pipeline's own.
    for (const bus of Object.values(resourcesOf(template, 'AWS::Events::EventBus')))
      expect(bus.Properties?.KmsKeyIdentifier).toBeDefined();
  });

  it('encrypts the PatientChange bus of a standalone PatientEnrichmentPipe with its key', () => {
    const { stack, key } = constructStack();
    new PatientEnrichmentPipe(stack, 'Patients', {
      table: table('patients'),
      handlerCode: HandlerCode.placeholder(),
      encryptionKey: key,
    });
    const template = Template.fromStack(stack);
    const keyId = Object.keys(resourcesOf(template, 'AWS::KMS::Key'))[0]!;
    template.hasResourceProperties('AWS::Events::EventBus', { KmsKeyIdentifier: { 'Fn::GetAtt': [keyId, 'Arn'] } });
  });
});
