import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAMBDA_CONCURRENCY_REASON, STACK_ACKNOWLEDGEMENTS } from '../lib/nag-acknowledgements.js';
import { stackEnvironmentOf } from '../lib/tributary-stack.js';
import { injectedColumnsByTable, injectedPredicateProblems, namedQueries } from './athena-injected-check.js';
import { fixtureConfig, synthStack, type SynthResult } from './synth-helpers.js';
import { iamStatements, resourcesOf } from './template-helpers.js';

describe('TributaryStack (fixture config, cdk-nag HIPAA + AWS Solutions)', () => {
  let result: SynthResult;
  let template: Template;
  const savedEnv = { ...process.env };

  beforeAll(() => {
    // No credentials, no region: synth must not need them.
    for (const name of Object.keys(process.env)) if (name.startsWith('AWS_')) delete process.env[name];
    // As bin/app.ts does without credentials: the config's region, no account.
    result = synthStack({ env: stackEnvironmentOf(fixtureConfig(), {}) });
    template = Template.fromJSON(
      result.app.synth().getStackArtifact(result.stack.artifactId).template as Record<string, unknown>,
    );
  });
  afterAll(() => {
    result.cleanup();
    process.env = savedEnv;
  });

  it('synthesises with no credentials and no network into a cloud assembly', () => {
    expect(result.error).toBeUndefined();
    expect(existsSync(join(result.outdir, 'Tributary.template.json'))).toBe(true);
    expect(readdirSync(result.outdir)).toContain('manifest.json');
  });

  it('has zero unacknowledged cdk-nag findings (HIPAA Security and AWS Solutions) and no error annotations', () => {
    expect(result.violations).toEqual([]);
    const report = JSON.parse(readFileSync(join(result.outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: Array<{ pluginName: string; conclusion: string }>;
    };
    for (const plugin of report.pluginReports) expect(plugin.conclusion, plugin.pluginName).toBe('success');
    expect(Annotations.fromStack(result.stack).findError('*', Match.anyValue())).toEqual([]);
  });

  it('really runs both packs: an unencrypted, unlogged bucket added to the stack is reported', () => {
    const control = synthStack({ mutate: (stack) => new s3.Bucket(stack, 'Plain') });
    try {
      expect(control.error).toBeDefined(); // synthesis is interrupted
      const rules = control.violations
        .filter((violation) => violation.paths.includes('Tributary/Plain/Resource'))
        .map((violation) => violation.rule);
      expect(rules).toEqual(
        expect.arrayContaining([
          'AwsSolutions-S10',
          'HIPAA.Security-S3DefaultEncryptionKMS',
          'HIPAA.Security-S3BucketLoggingEnabled',
        ]),
      );
    } finally {
      control.cleanup();
    }
  });

  it('acknowledges stack-wide findings only with a stated reason', () => {
    for (const [rule, reason] of Object.entries(STACK_ACKNOWLEDGEMENTS)) {
      expect(rule).toMatch(/^(AwsSolutions|HIPAA\.Security)-/);
      expect(reason.length).toBeGreaterThan(40);
    }
  });

  it('wires one config: a lake pipe, a patient pipe, the export workflow and the catalog', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 3); // visits, patients, ledger
    template.resourceCountIs('AWS::Pipes::Pipe', 2);
    template.resourceCountIs('AWS::KinesisFirehose::DeliveryStream', 1);
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 2); // export, backfill
    template.resourceCountIs('AWS::Scheduler::Schedule', 1);
    template.resourceCountIs('AWS::HealthLake::FHIRDatastore', 1);
    template.resourceCountIs('AWS::Glue::Database', 1);
    template.resourceCountIs('AWS::Glue::Crawler', 0);
    template.resourceCountIs('AWS::Athena::WorkGroup', 1);
    // 6 + update-views (the views writer).
    template.resourceCountIs('AWS::Lambda::Function', 9); // with backfill and backfill-trigger
    template.resourceCountIs('AWS::Events::EventBus', 1);
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.org' });
  });

  it('encrypts every bucket, table, queue, log group, stream, topic and the datastore with a rotating customer-managed key', () => {
    for (const key of Object.values(resourcesOf(template, 'AWS::KMS::Key')))
      expect(key.Properties?.EnableKeyRotation).toBe(true);
    for (const [id, bucket] of Object.entries(resourcesOf(template, 'AWS::S3::Bucket'))) {
      const props = bucket.Properties ?? {};
      expect(props.PublicAccessBlockConfiguration, id).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(props.VersioningConfiguration, id).toEqual({ Status: 'Enabled' });
      const algorithm = (
        props.BucketEncryption as {
          ServerSideEncryptionConfiguration: Array<{ ServerSideEncryptionByDefault: { SSEAlgorithm: string } }>;
        }
      ).ServerSideEncryptionConfiguration[0]!.ServerSideEncryptionByDefault.SSEAlgorithm;
      if (id.startsWith('AccessLogs'))
        expect(algorithm).toBe('AES256'); // S3 log delivery supports SSE-S3 only
      else {
        expect(algorithm, id).toBe('aws:kms');
        expect(props.LoggingConfiguration, id).toBeDefined();
      }
    }
    for (const policy of Object.values(resourcesOf(template, 'AWS::S3::BucketPolicy'))) {
      expect(JSON.stringify(policy.Properties)).toContain('aws:SecureTransport');
    }
    for (const table of Object.values(resourcesOf(template, 'AWS::DynamoDB::Table'))) {
      expect(table.Properties?.SSESpecification).toMatchObject({ SSEEnabled: true, SSEType: 'KMS' });
      expect(table.Properties?.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    }
    for (const [id, queue] of Object.entries(resourcesOf(template, 'AWS::SQS::Queue')))
      expect(queue.Properties?.KmsMasterKeyId, id).toBeDefined();
    for (const [id, group] of Object.entries(resourcesOf(template, 'AWS::Logs::LogGroup')))
      expect(group.Properties?.KmsKeyId, id).toBeDefined();
    for (const topic of Object.values(resourcesOf(template, 'AWS::SNS::Topic')))
      expect(topic.Properties?.KmsMasterKeyId).toBeDefined();
    template.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      DeliveryStreamEncryptionConfigurationInput: { KeyType: 'CUSTOMER_MANAGED_CMK' },
    });
    template.hasResourceProperties('AWS::HealthLake::FHIRDatastore', {
      DatastoreTypeVersion: 'R4',
      SseConfiguration: { KmsEncryptionConfig: { CmkType: 'CUSTOMER_MANAGED_KMS_KEY' } },
    });
    for (const pipe of Object.values(resourcesOf(template, 'AWS::Pipes::Pipe')))
      expect(pipe.Properties?.KmsKeyIdentifier).toBeDefined();
  });

  it('has no wildcard actions on tables, buckets or queues, and no service-wide wildcard anywhere', () => {
    const statements = iamStatements(template);
    expect(statements.length).toBeGreaterThan(20);
    for (const statement of statements) {
      for (const action of statement.Action) {
        expect(action, statement.owner).not.toBe('*');
        expect(action, statement.owner).not.toMatch(/^[a-z0-9-]+:\*$/);
        if (/^(dynamodb|s3|sqs):/.test(action)) expect(action, statement.owner).not.toContain('*');
      }
    }
  });

  it('limits iam:PassRole to the HealthLake data-access role, passed to HealthLake only', () => {
    const passRole = iamStatements(template).filter((statement) => statement.Action.includes('iam:PassRole'));
    expect(passRole).toHaveLength(1);
    expect(passRole[0]!.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'healthlake.amazonaws.com' } });
    expect(JSON.stringify(passRole[0]!.Resource)).toContain('FhirExportDataAccessRole');
  });

  it('runs every Lambda on nodejs22.x arm64 (update-views x86_64: its duckdb layer ships the installed linux-x64 binding) with tracing and Powertools, reserving no concurrency by default', () => {
    for (const [id, fn] of Object.entries(resourcesOf(template, 'AWS::Lambda::Function'))) {
      const props = fn.Properties ?? {};
      expect(props.Runtime, id).toBe('nodejs22.x');
      expect(props.Architectures, id).toEqual([id.includes('UpdateViews') ? 'x86_64' : 'arm64']);
      expect(props.TracingConfig, id).toEqual({ Mode: 'Active' });
      // Opt-in (aws.reservedConcurrency): 37 reserved units failed deploys on accounts with low quotas.
      expect(props.ReservedConcurrentExecutions, id).toBeUndefined();
      expect(props.KmsKeyArn, id).toBeDefined();
      const variables = (props.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(variables.POWERTOOLS_SERVICE_NAME, id).toMatch(/^tributary-/);
      expect(variables.POWERTOOLS_METRICS_NAMESPACE, id).toBe('Tributary');
      // Two malloc arenas: the peak RSS of gzip work on libuv's pool stays flat (issue 12).
      expect(variables.MALLOC_ARENA_MAX, id).toBe('2');
    }
  });

  it('alarms on DLQ depth, failed and timed-out executions, pipe and Firehose failures and Lambda errors, to the encrypted topic', () => {
    const alarms = Object.values(resourcesOf(template, 'AWS::CloudWatch::Alarm'));
    const metricNames = alarms.map((alarm) =>
      String(alarm.Properties?.MetricName ?? JSON.stringify(alarm.Properties?.Metrics)),
    );
    for (const expected of [
      'ApproximateNumberOfMessagesVisible',
      'ExecutionsFailed',
      'ExecutionsTimedOut',
      'ExecutionFailed',
      'DeliveryToS3.Success',
      'Errors',
    ]) {
      expect(
        metricNames.some((name) => name.includes(expected)),
        expected,
      ).toBe(true);
    }
    for (const alarm of alarms) expect((alarm.Properties?.AlarmActions as unknown[]).length).toBe(1);
  });

  it('acknowledges HIPAA LambdaConcurrency with the opt-in reason, on the functions only', () => {
    expect(LAMBDA_CONCURRENCY_REASON).toBe(
      'opt-in: reserved units fail deploys on low-quota accounts; set aws.reservedConcurrency',
    );
    const functions = result.stack.node.findAll().filter((node) => node instanceof lambda.Function);
    expect(functions.length).toBe(9); // with backfill and backfill-trigger
    for (const fn of functions) {
      const acknowledged = fn.node.metadata
        .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .map((entry) => JSON.stringify(entry.data));
      expect(acknowledged.join(), fn.node.path).toContain('HIPAA.Security-LambdaConcurrency');
      expect(acknowledged.join(), fn.node.path).toContain(LAMBDA_CONCURRENCY_REASON);
    }
    expect(Object.keys(STACK_ACKNOWLEDGEMENTS)).not.toContain('HIPAA.Security-LambdaConcurrency');
  });

  it("caps the SQS-triggered export Lambdas with the event sources' maxConcurrency instead", () => {
    const mappings = Object.values(resourcesOf(template, 'AWS::Lambda::EventSourceMapping'));
    expect(mappings).toHaveLength(2); // start queue -> start-export, recheck queue -> check-export
    for (const mapping of mappings) expect(mapping.Properties?.ScalingConfig).toEqual({ MaximumConcurrency: 2 });
  });

  it("encrypts the event bus that carries PatientChange (PHI) with the stack's customer-managed key", () => {
    const keys = Object.keys(resourcesOf(template, 'AWS::KMS::Key'));
    expect(keys).toHaveLength(1);
    const buses = Object.values(resourcesOf(template, 'AWS::Events::EventBus'));
    expect(buses).toHaveLength(1);
    expect(buses[0]!.Properties?.KmsKeyIdentifier).toEqual({ 'Fn::GetAtt': [keys[0], 'Arn'] });
    // The patient pipe targets that bus.
    template.hasResourceProperties('AWS::Pipes::Pipe', {
      TargetParameters: { EventBridgeEventBusParameters: { DetailType: 'PatientChange' } },
      Target: { 'Fn::GetAtt': [Object.keys(resourcesOf(template, 'AWS::Events::EventBus'))[0], 'Arn'] },
    });
  });

  it("deploys to the config's region, and names per-account resources from the stack name unless configured", () => {
    expect(result.stack.region).toBe('eu-west-1');
    template.hasResourceProperties('AWS::Glue::Database', {
      DatabaseInput: Match.objectLike({ Name: 'tributary_test' }),
    });
    template.hasResourceProperties('AWS::Athena::WorkGroup', { Name: 'Tributary' });
    template.hasResourceProperties('AWS::HealthLake::FHIRDatastore', { DatastoreName: 'Tributary' });
  });

  it('has named queries Athena accepts with injected partition projection', () => {
    const injected = injectedColumnsByTable(template);
    expect(Object.values(injected).flat()).toContain('siteid');
    const queries = namedQueries(template);
    expect(queries.length).toBeGreaterThan(0);
    for (const query of queries) expect(injectedPredicateProblems(query.sql, injected), query.name).toEqual([]);
  });
});
