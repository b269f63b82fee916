import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDeployConfig } from '../lib/config-sections.js';
import { glueNameOf, OPT_IN_RESERVED_CONCURRENCY, stackEnvironmentOf } from '../lib/tributary-stack.js';
import { fixtureConfig, synthStack, type SynthResult } from './synth-helpers.js';
import { resourcesOf } from './template-helpers.js';

/** The fixture config without the names it sets, so every name is derived. */
function unnamedConfig(extra: { aws?: Record<string, unknown> } = {}) {
  const raw = JSON.parse(JSON.stringify(fixtureConfig())) as Record<string, Record<string, unknown>>;
  delete raw.catalog!.databaseName;
  delete raw.catalog!.workgroupName;
  delete raw.aws!.datastoreName;
  raw.aws = { ...raw.aws, ...extra.aws };
  return parseDeployConfig(raw);
}

function templateOf(result: SynthResult): Template {
  return Template.fromJSON(
    result.app.synth().getStackArtifact(result.stack.artifactId).template as Record<string, unknown>,
  );
}

describe('TributaryStack options (no cdk-nag: the main stack test runs it)', () => {
  let prod: SynthResult;
  let reserved: SynthResult;
  beforeAll(() => {
    prod = synthStack({ config: unnamedConfig(), stackName: 'TributaryProd', nag: false });
    reserved = synthStack({ config: unnamedConfig({ aws: { reservedConcurrency: true } }), nag: false });
  });
  afterAll(() => {
    prod.cleanup();
    reserved.cleanup();
  });

  it('derives the Glue database, Athena workgroup and datastore names from the stack name', () => {
    const template = templateOf(prod);
    const database = Object.values(resourcesOf(template, 'AWS::Glue::Database'))[0]!;
    expect((database.Properties?.DatabaseInput as { Name: string }).Name).toBe('tributary_prod');
    template.hasResourceProperties('AWS::Athena::WorkGroup', { Name: 'TributaryProd' });
    template.hasResourceProperties('AWS::HealthLake::FHIRDatastore', { DatastoreName: 'TributaryProd' });
    for (const table of Object.values(resourcesOf(template, 'AWS::Glue::Table')))
      expect(table.Properties?.DatabaseName).toBe('tributary_prod');
    for (const query of Object.values(resourcesOf(template, 'AWS::Athena::NamedQuery')))
      expect(query.Properties?.Database).toBe('tributary_prod');
    // The default stack keeps the old names' shape.
    expect(glueNameOf('Tributary')).toBe('tributary');
    expect(glueNameOf('tributary-staging.2')).toBe('tributary_staging_2');
  });

  it('reserves concurrency only when aws.reservedConcurrency is set', () => {
    const byHandler = (template: Template) =>
      Object.fromEntries(
        Object.values(resourcesOf(template, 'AWS::Lambda::Function')).map((fn) => {
          const variables = (fn.Properties?.Environment as { Variables: Record<string, unknown> }).Variables;
          return [String(variables.POWERTOOLS_SERVICE_NAME), fn.Properties?.ReservedConcurrentExecutions];
        }),
      );
    expect(Object.values(byHandler(templateOf(prod))).every((value) => value === undefined)).toBe(true);
    expect(byHandler(templateOf(reserved))).toEqual({
      'tributary-firehose-transform': OPT_IN_RESERVED_CONCURRENCY.firehoseTransform,
      'tributary-patient-enrichment': OPT_IN_RESERVED_CONCURRENCY.patientEnrichment,
      'tributary-run-ledger': OPT_IN_RESERVED_CONCURRENCY.runLedger,
      'tributary-start-export': 1,
      'tributary-check-export': 1,
      'tributary-process-file': 20, // the fixture's export.mapMaxConcurrency
    });
  });

  it("takes the region from the config, not from the CLI profile's CDK_DEFAULT_REGION", () => {
    const config = fixtureConfig();
    expect(config.region).toBe('eu-west-1');
    expect(
      stackEnvironmentOf(config, { CDK_DEFAULT_REGION: 'us-west-2', CDK_DEFAULT_ACCOUNT: '123456789012' }),
    ).toEqual({ region: 'eu-west-1', account: '123456789012' });
    expect(stackEnvironmentOf(config, { CDK_DEFAULT_REGION: 'us-west-2' })).toEqual({ region: 'eu-west-1' });
  });
});
