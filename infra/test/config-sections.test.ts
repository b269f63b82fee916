import { describe, expect, it } from 'vitest';
import { demoConfig } from '../../src/config/demo-config.js';
import { ConfigError } from '../../src/config/errors.js';
import { parseDeployConfig } from '../lib/config-sections.js';

describe('parseDeployConfig', () => {
  it('reads the demo config and fills every deployment default', () => {
    const config = parseDeployConfig(demoConfig);
    expect(config.tables[0]?.name).toBe('visits');
    expect(config.export).toMatchObject({
      scheduleMinutes: 15,
      heartbeatSeconds: 300,
      mapMaxConcurrency: 10,
      toleratedFailurePercentage: 0,
    });
    // Names unique per account are derived from the stack name unless set (tributary-stack.ts uniqueNamesOf).
    expect(config.catalog).toMatchObject({ partitionValues: {} });
    expect(config.catalog.databaseName).toBeUndefined();
    expect(config.catalog.workgroupName).toBeUndefined();
    expect(config.aws).toEqual({
      exportStagingDays: 7,
      existingTables: {},
      removalPolicy: 'retain',
      reservedConcurrency: false,
      exportReservedConcurrency: 1,
    });
    expect(config.alarms.email).toBeUndefined();
  });

  it('names the bad field in the deployment sections', () => {
    expect(() => parseDeployConfig({ aws: { datastoreId: 'nope' } })).toThrow(ConfigError);
    expect(() => parseDeployConfig({ aws: { datastoreId: 'nope' } })).toThrow(/aws\.datastoreId/);
    expect(() => parseDeployConfig({ export: { heartbeatSeconds: 60, maxCheckDelaySeconds: 120 } })).toThrow(
      /export\.maxCheckDelaySeconds/,
    );
    expect(() => parseDeployConfig({ aws: { existingTables: { visits: { streamArn: 'arn:aws:s3:::x' } } } })).toThrow(
      /aws\.existingTables\.visits\.streamArn/,
    );
  });

  it('still validates the local sections', () => {
    expect(() => parseDeployConfig({ tables: [{ name: 'x', partitionKey: 'id' }] })).toThrow(/tables\.0\.name/);
  });
});
