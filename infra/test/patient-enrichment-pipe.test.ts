import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { loadPatientEnrichmentConfig } from '../../src/patient-enrichment/enrichment-config.js';
import { HandlerCode } from '../lib/lambda/handler-code.js';
import { PatientEnrichmentPipe } from '../lib/patient-enrichment-pipe.js';
import { constructStack } from './construct-helpers.js';
import { fixtureConfig } from './synth-helpers.js';
import { iamStatements, lambdaEnvironment } from './template-helpers.js';

const DATASTORE_ARN = 'arn:aws:healthlake:eu-west-1:123456789012:datastore/fhir/0123456789abcdef0123456789abcdef';

function synth(writeThrough: boolean): Template {
  const { stack, key } = constructStack();
  const table = fixtureConfig().tables.find((entry) => entry.name === 'patients')!;
  new PatientEnrichmentPipe(stack, 'Patients', {
    table,
    handlerCode: HandlerCode.placeholder(),
    encryptionKey: key,
    ...(writeThrough
      ? {
          healthLakeWriteThrough: {
            datastoreArn: DATASTORE_ARN,
            datastoreEndpoint:
              'https://healthlake.eu-west-1.amazonaws.com/datastore/0123456789abcdef0123456789abcdef/r4/',
          },
        }
      : {}),
  });
  return Template.fromStack(stack);
}

describe('PatientEnrichmentPipe', () => {
  const template = synth(true);

  it('pipes the patients stream through the enrichment Lambda to the bus as PatientChange, with a DLQ', () => {
    template.resourceCountIs('AWS::Pipes::Pipe', 1);
    template.resourceCountIs('AWS::Events::EventBus', 1);
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.hasResourceProperties('AWS::Pipes::Pipe', {
      Enrichment: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PatientsEnrichmentFunction'), 'Arn'] },
      Target: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PatientsBus'), 'Arn'] },
      TargetParameters: {
        EventBridgeEventBusParameters: { DetailType: 'PatientChange', Source: 'tributary.patients' },
      },
      SourceParameters: {
        FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ eventName: ['INSERT', 'MODIFY', 'REMOVE'] }) }] },
        DynamoDBStreamParameters: Match.objectLike({ BatchSize: 10, DeadLetterConfig: { Arn: Match.anyValue() } }),
      },
    });
  });

  it('grants HealthLake write-through on the datastore only, with explicit actions', () => {
    const healthlake = iamStatements(template).filter((statement) =>
      statement.Action.some((action) => action.startsWith('healthlake:')),
    );
    expect(healthlake).toHaveLength(1);
    expect(healthlake[0]!.Action.sort()).toEqual([
      'healthlake:DeleteResource',
      'healthlake:ReadResource',
      'healthlake:UpdateResource',
    ]);
    expect(healthlake[0]!.Resource).toEqual([DATASTORE_ARN]);
    expect(lambdaEnvironment(template, 'PatientsEnrichment').TRIBUTARY_HEALTHLAKE_ENDPOINT).toContain('/datastore/');
  });

  it('gives the enrichment Lambda an environment its config loader accepts', () => {
    const config = loadPatientEnrichmentConfig(lambdaEnvironment(template, 'PatientsEnrichment'));
    expect(config.options.source).toBe('tributary.patients');
    expect(config.deadLetterQueueUrl).toMatch(/^https:/);
  });

  it('grants no HealthLake access without write-through', () => {
    const plain = synth(false);
    expect(
      iamStatements(plain).some((statement) => statement.Action.some((action) => action.startsWith('healthlake:'))),
    ).toBe(false);
  });
});
