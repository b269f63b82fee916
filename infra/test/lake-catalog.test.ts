import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { LakeCatalog, projectionParameters } from '../lib/lake-catalog.js';
import { constructStack } from './construct-helpers.js';

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
    template.resourceCountIs('AWS::Glue::Table', 3);
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
});
