import { Template } from 'aws-cdk-lib/assertions';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportTaskEnvSchema } from '../../src/fhir-export/export-task-env.js';
import { EXPORT_STATES } from '../lib/export-workflow/definition.js';
import {
  generateLocalWorkflowAsl,
  LOCAL_PLACEHOLDERS,
  LOCAL_WORKFLOW_FILE,
  localWorkflowOf,
} from '../lib/export-workflow/local-asl.js';
import { REPO_ROOT } from '../lib/lambda/handler-code.js';
import { fixtureConfig, synthStack, type SynthResult } from './synth-helpers.js';
import { iamStatements, lambdaEnvironment, resourcesOf } from './template-helpers.js';

const require = createRequire(import.meta.url);
const aslValidator = require('asl-validator') as (definition: unknown) => {
  isValid: boolean;
  errorsText: (separator?: string) => string;
};

type State = Record<string, unknown> & {
  Type: string;
  Catch?: unknown[];
  ItemProcessor?: { States: Record<string, State> };
};

/** Every state, including those inside Map item processors, with its path. */
function allStates(states: Record<string, State>, path = ''): Array<[string, State]> {
  return Object.entries(states).flatMap(([name, state]) => [
    [`${path}${name}`, state] as [string, State],
    ...(state.ItemProcessor ? allStates(state.ItemProcessor.States, `${path}${name}/`) : []),
  ]);
}

describe('HealthLakeExportPipeline and the export workflow', () => {
  let result: SynthResult;
  let template: Template;
  let asl: { StartAt: string; States: Record<string, State>; TimeoutSeconds: number };

  beforeAll(() => {
    result = synthStack({ nag: false });
    const raw = result.app.synth().getStackArtifact(result.stack.artifactId).template as Parameters<
      typeof localWorkflowOf
    >[1];
    template = Template.fromJSON(raw as unknown as Record<string, unknown>);
    asl = localWorkflowOf(result.stack, raw) as typeof asl;
  });
  afterAll(() => result.cleanup());

  it('names the states of the contract, starting at AcquireLock', () => {
    expect(asl.StartAt).toBe('AcquireLock');
    for (const name of Object.values(EXPORT_STATES)) {
      expect(allStates(asl.States).map(([path]) => path.split('/').pop())).toContain(name);
    }
    expect(asl.TimeoutSeconds).toBe(86_400);
  });

  it('starts the export with the SQS callback pattern, a heartbeat and a max wait from config', () => {
    const start = asl.States.StartExport!;
    expect(start.Resource).toBe('arn:aws:states:::sqs:sendMessage.waitForTaskToken');
    expect(start.HeartbeatSeconds).toBe(240);
    expect(start.TimeoutSeconds).toBe(21_600);
    expect(start.Parameters).toMatchObject({
      QueueUrl: LOCAL_PLACEHOLDERS.startQueue,
      MessageBody: { 'taskToken.$': '$$.Task.Token' },
    });
  });

  it('processes files in a DISTRIBUTED Map reading the manifest with ItemReader, concurrency and tolerance from config', () => {
    const map = asl.States.ProcessFiles!;
    expect(map.Type).toBe('Map');
    expect(map.ItemProcessor).toMatchObject({ ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' } });
    expect(map.ItemReader).toEqual({
      Resource: 'arn:aws:states:::s3:getObject',
      ReaderConfig: { InputType: 'JSON' },
      Parameters: { 'Bucket.$': '$.export.bucket', 'Key.$': '$.export.manifestKey' },
    });
    expect(map.MaxConcurrency).toBe(20);
    expect(map.ToleratedFailurePercentage).toBe(5);
  });

  it('writes ProcessFiles results to S3 with a ResultWriter; CompleteRun gets only the manifest location', () => {
    const map = asl.States.ProcessFiles!;
    expect(map.ResultWriter).toEqual({
      Resource: 'arn:aws:states:::s3:putObject',
      Parameters: { 'Bucket.$': '$.export.bucket', Prefix: 'exports/map-results' },
    });
    expect(map.ResultSelector).toEqual({
      'Bucket.$': '$.ResultWriterDetails.Bucket',
      'Key.$': '$.ResultWriterDetails.Key',
    });
    expect(map.ResultPath).toBe('$.processed');
    const payload = (asl.States.CompleteRun!.Parameters as { Payload: Record<string, unknown> }).Payload;
    expect(payload['mapResults.$']).toBe('$.processed');
    expect(JSON.stringify(payload)).not.toContain('results.$');
  });

  it('grants the ResultWriter prefix only: PutObject to the state machine, GetObject to run-ledger, no S3 action on *', () => {
    const statements = iamStatements(template);
    const onMapResults = (owner: RegExp, action: string) =>
      statements.some(
        (s) =>
          owner.test(s.owner) &&
          s.Action.includes(action) &&
          s.Resource.some((r) => /ExportBucket.*\/exports\/map-results\/\*/.test(JSON.stringify(r))),
      );
    expect(onMapResults(/^FhirExportWorkflowRole/, 's3:PutObject')).toBe(true);
    expect(onMapResults(/^FhirExportRunLedger/, 's3:GetObject')).toBe(true);
    for (const s of statements)
      if (s.Action.some((a) => a.startsWith('s3:')))
        expect(s.Resource, `${s.owner} ${s.Action.join()}`).not.toContain('*');
  });

  it('RecordFailure passes the whole caught error (no path to a Cause that may be absent)', () => {
    const record = asl.States.RecordFailure!;
    expect((record.Parameters as { Payload: Record<string, unknown> }).Payload['error.$']).toBe('$.error');
    expect(JSON.stringify(record.Parameters)).not.toContain('$.error.Cause');
    expect(record.ResultSelector).toEqual({ 'Error.$': '$.Payload.error', 'Cause.$': '$.Payload.cause' });
    expect(record.ResultPath).toBe('$.error');
  });

  it('has a Catch on every Task state, inside the Map too', () => {
    const tasks = allStates(asl.States).filter(
      ([, state]) => state.Type === 'Task' || (state.Type === 'Map' && state.ItemReader),
    );
    expect(tasks.map(([path]) => path)).toContain('ProcessFiles/ProcessFile');
    expect(tasks.length).toBeGreaterThanOrEqual(7);
    for (const [path, state] of tasks) expect(state.Catch?.length, path).toBeGreaterThan(0);
  });

  it('passes asl-validator', () => {
    const validation = aslValidator(asl);
    expect(validation.errorsText('\n')).toBe('');
    expect(validation.isValid).toBe(true);
  });

  it('commits the ASL the deployed stack runs: src/fhir-export/workflow.asl.json equals a fresh synthesis', () => {
    const committed = readFileSync(join(REPO_ROOT, LOCAL_WORKFLOW_FILE), 'utf8');
    expect(committed).toBe(generateLocalWorkflowAsl());
  });

  it('logs all state events without execution data, with X-Ray tracing', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false },
    });
  });

  it('schedules runs from config and releases the lock on TIMED_OUT/ABORTED/FAILED via run-ledger', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(30 minutes)',
      FlexibleTimeWindow: { Mode: 'OFF' },
    });
    const rules = Object.values(resourcesOf(template, 'AWS::Events::Rule'));
    const statusRule = rules.find((rule) =>
      JSON.stringify(rule.Properties?.EventPattern).includes('Step Functions Execution Status Change'),
    );
    expect(statusRule?.Properties?.EventPattern).toMatchObject({
      source: ['aws.states'],
      detail: { status: ['TIMED_OUT', 'ABORTED', 'FAILED'] },
    });
    expect(JSON.stringify(statusRule?.Properties?.Targets)).toContain('FhirExportRunLedgerFunction');
  });

  it('consumes start and recheck queues one message at a time with batch item failures, bounded by maxConcurrency, reserving nothing', () => {
    const mappings = Object.values(resourcesOf(template, 'AWS::Lambda::EventSourceMapping'));
    expect(mappings).toHaveLength(2);
    for (const mapping of mappings)
      expect(mapping.Properties).toMatchObject({
        BatchSize: 1,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: 2 },
      });
    // Reserved concurrency is opt-in (aws.reservedConcurrency): reserved units fail deploys on low-quota accounts.
    for (const [id, fn] of Object.entries(resourcesOf(template, 'AWS::Lambda::Function'))) {
      if (/^FhirExport(Start|Check)Export/.test(id))
        expect(fn.Properties?.ReservedConcurrentExecutions, id).toBeUndefined();
    }
    for (const [id, queue] of Object.entries(resourcesOf(template, 'AWS::SQS::Queue'))) {
      if (/^FhirExport(Start|Recheck)QueueQueue/.test(id)) expect(queue.Properties?.RedrivePolicy, id).toBeDefined();
    }
  });

  it('gives start-export and check-export an environment their schema accepts', () => {
    for (const prefix of ['FhirExportStartExport', 'FhirExportCheckExport']) {
      const parsed = exportTaskEnvSchema.safeParse(lambdaEnvironment(template, prefix));
      expect(parsed.error?.issues ?? [], prefix).toEqual([]);
      expect(parsed.data?.SOURCE_KIND).toBe('healthlake');
      expect(parsed.data?.EXPORT_TYPES).toEqual(fixtureConfig().export.types);
    }
    expect(lambdaEnvironment(template, 'FhirExportRunLedger')).toHaveProperty('LEDGER_TABLE');
    expect(lambdaEnvironment(template, 'FhirExportProcessFile')).toMatchObject({ EMIT_EVENTS: 'true' });
  });

  it('lets run-ledger cancel a failed run through the recheck queue: RECHECK_QUEUE_URL, and sqs:SendMessage to that queue only', () => {
    const recheckUrl = lambdaEnvironment(template, 'FhirExportCheckExport').RECHECK_QUEUE_URL;
    expect(recheckUrl).toMatch(/FhirExportRecheckQueue/);
    expect(lambdaEnvironment(template, 'FhirExportRunLedger').RECHECK_QUEUE_URL).toBe(recheckUrl);
    const ledger = iamStatements(template).filter((s) => /^FhirExportRunLedger/.test(s.owner));
    const sqsStatements = ledger.filter((s) => s.Action.some((a) => a.startsWith('sqs:')));
    for (const s of sqsStatements) expect(s.Action).toEqual(['sqs:SendMessage']);
    // Besides its own async-invoke DLQ (the status-change rule's failures), only the recheck queue itself.
    const targets = sqsStatements.flatMap((s) =>
      s.Resource.map((r) => String((r as { 'Fn::GetAtt'?: string[] })['Fn::GetAtt']?.[0])),
    );
    expect(targets.filter((id) => !/^FhirExportRunLedgerDlq/.test(id))).toEqual([
      expect.stringMatching(/^FhirExportRecheckQueue[0-9A-F]+$/),
    ]);
    const recheckQueue = resourcesOf(template, 'AWS::SQS::Queue')[
      targets.find((id) => /^FhirExportRecheck/.test(id))!
    ]!;
    expect(recheckQueue.Properties?.RedrivePolicy).toBeDefined(); // the queue, not its DLQ
    // The queue is SSE-KMS: run-ledger may encrypt with its key.
    const keyId = (recheckQueue.Properties?.KmsMasterKeyId as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];
    expect(
      ledger.some((s) => s.Action.includes('kms:GenerateDataKey') && JSON.stringify(s.Resource).includes(`"${keyId}"`)),
    ).toBe(true);
  });

  it('loads the run-ledger, process-file, start-export and check-export handlers with the deployed environment', async () => {
    const saved = { ...process.env };
    try {
      for (const [prefix, module] of [
        ['FhirExportRunLedger', '../../src/handlers/run-ledger.js'],
        ['FhirExportProcessFile', '../../src/handlers/process-file.js'],
        ['FhirExportStartExport', '../../src/handlers/start-export.js'],
        ['FhirExportCheckExport', '../../src/handlers/check-export.js'],
      ] as const) {
        process.env = {
          ...saved,
          ...lambdaEnvironment(template, prefix),
          AWS_REGION: 'eu-west-1',
          POWERTOOLS_DEV: 'false',
        };
        // Each handler validates its environment when loaded and throws on a missing or bad variable.
        const loaded = (await import(module)) as { handler?: unknown };
        expect(typeof loaded.handler, prefix).toBe('function');
      }
    } finally {
      process.env = saved;
    }
  });

  it('grants HealthLake export actions on this datastore only', () => {
    const statements = iamStatements(template).filter((statement) =>
      statement.Action.some((action) => action.startsWith('healthlake:')),
    );
    expect(statements.length).toBeGreaterThanOrEqual(3);
    for (const statement of statements) {
      expect(statement.Resource).toHaveLength(1);
      expect(JSON.stringify(statement.Resource)).toMatch(/FhirExportDatastore/);
    }
  });

  it('uses an existing datastore by id instead of creating one', () => {
    const config = fixtureConfig();
    const existing = synthStack({
      nag: false,
      config: { ...config, aws: { ...config.aws, datastoreId: '0123456789abcdef0123456789abcdef' } },
    });
    try {
      const raw = existing.app.synth().getStackArtifact(existing.stack.artifactId).template as Record<string, unknown>;
      Template.fromJSON(raw).resourceCountIs('AWS::HealthLake::FHIRDatastore', 0);
      expect(JSON.stringify(raw)).toContain('datastore/fhir/0123456789abcdef0123456789abcdef');
    } finally {
      existing.cleanup();
    }
  });
});
