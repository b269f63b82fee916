import { Match, Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { issueExampleConfig } from '../../test/fixtures/issue-example-config.js';
import { parseDeployConfig } from '../lib/config-sections.js';
import { changesWithPatientQuery, LakeCatalog, projectionParameters } from '../lib/lake-catalog.js';
import {
  injectedColumnsByTable,
  injectedPredicateProblems,
  namedQueries,
  readmeExampleConfig,
} from './athena-injected-check.js';
import { constructStack } from './construct-helpers.js';
import { synthStack } from './synth-helpers.js';

describe('LakeCatalog', () => {
  const { stack, key, lake, accessLogs } = constructStack();
  new LakeCatalog(stack, 'Catalog', {
    lakeBucket: lake,
    changeTables: [{ name: 'visits', partitionBy: ['siteId', 'year', 'month', 'day'] }],
    fhirTypes: ['Patient', 'Observation'],
    encryptionKey: key,
    serverAccessLogsBucket: accessLogs,
  });
  const template = Template.fromStack(stack);

  it('creates a database and one JSON table per change table and FHIR type, without a crawler', () => {
    template.resourceCountIs('AWS::Glue::Database', 1);
    // + current_visits_files (Parquet) and current_visits (Athena view): no views given, so no view_<name> tables.
    template.resourceCountIs('AWS::Glue::Table', 5);
    template.resourceCountIs('AWS::Glue::Crawler', 0);
    for (const name of ['changes_visits', 'fhir_patient', 'fhir_observation']) {
      template.hasResourceProperties('AWS::Glue::Table', {
        TableInput: Match.objectLike({
          Name: name,
          StorageDescriptor: Match.objectLike({
            SerdeInfo: Match.objectLike({ SerializationLibrary: 'org.openx.data.jsonserde.JsonSerDe' }),
          }),
        }),
      });
    }
  });

  it('projects change partitions: injected attribute, integer time parts, the lake layout as template', () => {
    template.hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Name: 'changes_visits',
        PartitionKeys: [
          { Name: 'siteid', Type: 'string' },
          { Name: 'year', Type: 'string' },
          { Name: 'month', Type: 'string' },
          { Name: 'day', Type: 'string' },
        ],
        Parameters: Match.objectLike({
          'projection.enabled': 'true',
          'projection.siteid.type': 'injected',
          'projection.year.type': 'integer',
          'projection.month.range': '1,12',
          'projection.month.digits': '2',
          'storage.location.template': {
            'Fn::Join': [
              '',
              [
                's3://',
                { Ref: Match.anyValue() },
                '/changes/visits/siteId=${siteid}/year=${year}/month=${month}/day=${day}/',
              ],
            ],
          },
        }),
      }),
    });
    template.hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Name: 'fhir_patient',
        StorageDescriptor: Match.objectLike({
          Location: { 'Fn::Join': ['', ['s3://', { Ref: Match.anyValue() }, '/fhir/Patient/']] },
        }),
      }),
    });
  });

  it('uses enum projection when partition values are known', () => {
    const parameters = projectionParameters('s3://lake/changes/visits/', ['siteId', 'day'], 2021, {
      siteId: ['1', '2'],
    });
    expect(parameters).toMatchObject({
      'projection.siteid.type': 'enum',
      'projection.siteid.values': '1,2',
      'projection.day.range': '1,31',
    });
    expect(parameters['storage.location.template']).toBe('s3://lake/changes/visits/siteId=${siteid}/day=${day}/');
  });

  it('enforces an Athena workgroup with KMS-encrypted results in its own bucket', () => {
    template.hasResourceProperties('AWS::Athena::WorkGroup', {
      WorkGroupConfiguration: Match.objectLike({
        EnforceWorkGroupConfiguration: true,
        ResultConfiguration: {
          OutputLocation: Match.anyValue(),
          EncryptionConfiguration: { EncryptionOption: 'SSE_KMS', KmsKey: Match.anyValue() },
        },
      }),
    });
    template.resourceCountIs('AWS::S3::Bucket', 3); // access logs, lake, results
  });

  it('adds named queries joining each change table with fhir_patient on the patient id', () => {
    const queries = Object.values(template.findResources('AWS::Athena::NamedQuery')) as Array<{
      Properties: { QueryString: string };
    }>;
    expect(queries).toHaveLength(1);
    expect(queries[0]!.Properties.QueryString).toMatch(
      /FROM changes_visits c\s+JOIN fhir_patient p ON p\.id = json_extract_scalar\(.*'\$\.patientId'\)/,
    );
  });

  it('filters the injected partition column of every table a named query reads by static equality', () => {
    const injected = injectedColumnsByTable(template);
    expect(injected.changes_visits).toEqual(['siteid']);
    for (const query of namedQueries(template))
      expect(injectedPredicateProblems(query.sql, injected), query.name).toEqual([]);
  });
});

describe('named queries of the example configs', () => {
  it.each([
    ['README.md "Configuration"', readmeExampleConfig()],
    ["the issue's example (test/fixtures/issue-example-config.ts)", issueExampleConfig],
  ])(
    'are all valid for Athena injected partition projection (an equality predicate on each injected column): %s',
    (source, raw) => {
      const result = synthStack({ config: parseDeployConfig(raw, source), nag: false });
      try {
        expect(result.error).toBeUndefined();
        const template = Template.fromJSON(
          result.app.synth().getStackArtifact(result.stack.artifactId).template as Record<string, unknown>,
        );
        const injected = injectedColumnsByTable(template);
        const queries = namedQueries(template);
        expect(queries.length).toBeGreaterThan(0);
        // Not vacuous: siteId has no catalog.partitionValues in either config, so it is injected.
        expect(queries.some((query) => /\bchanges_visits\b/.test(query.sql))).toBe(true);
        // The blend join through the patient view (the default views include patient.patient_id) is checked too.
        expect(queries.some((query) => /\bchanges_visits c\s+JOIN view_patient p\b/.test(query.sql))).toBe(true);
        expect(injected.changes_visits).toEqual(['siteid']);
        for (const query of queries) expect(injectedPredicateProblems(query.sql, injected), query.name).toEqual([]);
      } finally {
        result.cleanup();
      }
    },
  );
});

describe('injectedPredicateProblems (the checker itself)', () => {
  const injected = { changes_visits: ['siteid'] };
  const head = 'SELECT c.op FROM changes_visits c JOIN fhir_patient p ON p.id = c.pid';

  it('rejects the query the catalog used to generate, which has no predicate on siteid', () => {
    const old = `${head}\nWHERE c.year = date_format(current_date, '%Y') AND c.month = date_format(current_date, '%m')\nLIMIT 100`;
    expect(injectedPredicateProblems(old, injected)).toEqual([
      'changes_visits.siteid: injected, but the WHERE clause has no static equality on it',
    ]);
  });

  it('rejects non-equality and non-static conditions, and accepts literals and parameters', () => {
    expect(injectedPredicateProblems(`${head} WHERE c.siteid LIKE 'a%'`, injected)).not.toEqual([]);
    expect(injectedPredicateProblems(`${head} WHERE c.siteid = c.op`, injected)).not.toEqual([]);
    expect(injectedPredicateProblems(`${head} WHERE c.siteid = 'a' OR c.op = 'd'`, injected)).not.toEqual([]);
    expect(injectedPredicateProblems(`${head} WHERE c.siteid = 'site-1' AND c.op = 'u'`, injected)).toEqual([]);
    expect(injectedPredicateProblems(`${head} WHERE c.siteid = ? LIMIT 5`, injected)).toEqual([]);
  });

  it('generates only predicates on partitions the table has, and none for enum-projected attributes', () => {
    const onlySite = changesWithPatientQuery({ name: 'notes', partitionBy: ['siteId'] }, 'patientId', {});
    expect(onlySite).toContain('WHERE c.siteid = ?');
    expect(onlySite).not.toContain('c.year');
    const known = changesWithPatientQuery({ name: 'notes', partitionBy: ['siteId', 'year'] }, 'patientId', {
      siteId: ['1'],
    });
    expect(known).not.toContain('siteid');
  });

  it('rejects an existing results bucket together with results bucket props', () => {
    const { stack, key, lake, accessLogs } = constructStack();
    expect(
      () =>
        new LakeCatalog(stack, 'Both', {
          lakeBucket: lake,
          changeTables: [],
          fhirTypes: ['Patient'],
          encryptionKey: key,
          serverAccessLogsBucket: accessLogs,
          existingResultsBucket: s3.Bucket.fromBucketName(stack, 'Results', 'results'),
          resultsBucketProps: { bucketName: 'x' },
        }),
    ).toThrow(/existingResultsBucket or resultsBucketProps, not both/);
  });
});
