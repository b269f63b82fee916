import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/errors.js';
import { parseConfig } from '../../../src/config/load.js';
import { issueExampleConfig } from '../../fixtures/issue-example-config.js';

/** The ConfigError a config raises. */
function configError(raw: unknown): ConfigError {
  try {
    parseConfig(raw, 'tributary.config.json');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

const table = { name: 'visits', partitionKey: 'id' };

describe('config: unknown keys are errors', () => {
  it.each([
    ['root', { tabels: [] }, '(root)', 'tabels', 'tables'],
    ['table', { tables: [{ ...table, partitonKey: 'x' }] }, 'tables.0', 'partitonKey', 'partitionKey'],
    ['pipe', { tables: [{ ...table, pipe: { partitonBy: ['year'] } }] }, 'tables.0.pipe', 'partitonBy', 'partitionBy'],
    [
      'pipe filter',
      { tables: [{ ...table, pipe: { fliter: [{ eventName: ['INSERT'] }] } }] },
      'tables.0.pipe',
      'fliter',
      'filter',
    ],
    [
      'eventTime',
      { tables: [{ ...table, pipe: { eventTime: { atribute: 'ts' } } }] },
      'tables.0.pipe.eventTime',
      'atribute',
      'attribute',
    ],
    [
      'patientEnrichment',
      { patientEnrichment: { writethrough: true } },
      'patientEnrichment',
      'writethrough',
      'writeThrough',
    ],
    ['export', { export: { scheduleMinute: 5 } }, 'export', 'scheduleMinute', 'scheduleMinutes'],
    [
      'export.source',
      { export: { source: { type: 'bulk-data', baseUrl: 'https://fhir.example', smrt: {} } } },
      'export.source',
      'smrt',
      'smart',
    ],
    [
      'export.source.smart',
      {
        export: {
          source: {
            type: 'bulk-data',
            baseUrl: 'https://fhir.example',
            smart: { clientId: 'c', privateKeyFile: 'k.pem', clientID: 'c' },
          },
        },
      },
      'export.source.smart',
      'clientID',
      'clientId',
    ],
    ['catalog', { catalog: { databasName: 'x' } }, 'catalog', 'databasName', 'databaseName'],
    ['alarms', { alarms: { emial: 'a@example.com' } }, 'alarms', 'emial', 'email'],
    ['aws', { aws: { removalPolcy: 'destroy' } }, 'aws', 'removalPolcy', 'removalPolicy'],
    [
      'aws.existingTables.<name>',
      {
        aws: {
          existingTables: {
            visits: { streamArn: 'arn:aws:dynamodb:us-east-1:123456789012:table/visits/stream/x', kmsKeyarn: 'arn:k' },
          },
        },
      },
      'aws.existingTables.visits',
      'kmsKeyarn',
      'kmsKeyArn',
    ],
  ])('%s: names the key, where it is, and the key it probably meant', (_level, raw, where, key, suggestion) => {
    const error = configError(raw);
    expect(error.message).toBe(`tributary.config.json: ${where}: unknown key '${key}' (did you mean '${suggestion}'?)`);
    expect(error.field).toBe(where === '(root)' ? key : `${where}.${key}`);
  });

  it('a misspelled key is reported before the required key it leaves missing', () => {
    expect(configError({ tables: [{ name: 'visits', partitonKey: 'id' }] }).message).toMatch(
      /tables\.0: unknown key 'partitonKey' \(did you mean 'partitionKey'\?\)/,
    );
  });

  it('no suggestion when nothing is close; every unknown key of one object is named', () => {
    expect(configError({ tables: [{ ...table, pipe: { colour: 'red', fliter: [] } }] }).message).toBe(
      "tributary.config.json: tables.0.pipe: unknown key 'colour'; unknown key 'fliter' (did you mean 'filter'?)",
    );
  });

  it('allows `$schema`, and still accepts the issue example', () => {
    expect(() => parseConfig({ $schema: './tributary.schema.json', ...issueExampleConfig })).not.toThrow();
  });
});
