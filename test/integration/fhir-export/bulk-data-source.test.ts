import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/errors.js';
import { parseConfig } from '../../../src/config/load.js';
import { LocalStack, patient } from './local-stack.js';

describe('local export workflow from a generic FHIR Bulk Data v2 server (config export.source)', () => {
  let stack: LocalStack;
  beforeEach(async () => {
    stack = await LocalStack.start();
  });
  afterEach(async () => {
    await stack.close();
  });

  it('kicks off $export over plain Bulk Data, downloads the manifest files into the export bucket, and lands them', async () => {
    await stack.put(patient('p1', 'Alpha'));
    await stack.put(patient('p2', 'Beta'));
    // The embedded store speaks Bulk Data v2 too; here it stands in for HAPI or SMART's reference server.
    const runtime = await stack.runtimeWith({ source: { type: 'bulk-data', baseUrl: stack.fhir.fhirBaseUrl } });
    const first = await runtime.runOnce();
    expect(first.error, JSON.stringify(first.error)).toBeUndefined();
    expect(first.status).toBe('COMPLETED');
    expect(first.counts.Patient?.resources).toBe(2);
    expect([...(await stack.currentState('Patient')).keys()].sort()).toEqual(['p1', 'p2']);

    // Incremental through the same source: only the change since the watermark.
    await stack.put(patient('p3', 'Gamma'));
    const second = await runtime.runOnce();
    expect(second.status).toBe('COMPLETED');
    expect(second.counts.Patient?.resources).toBe(1);
    expect([...(await stack.currentState('Patient')).keys()].sort()).toEqual(['p1', 'p2', 'p3']);
  });

  it('validates the source in the config file', () => {
    expect(() => parseConfig({ export: { source: { type: 'bulk-data', baseUrl: 'not a url' } } })).toThrow(ConfigError);
    expect(() =>
      parseConfig({
        export: { source: { type: 'bulk-data', baseUrl: 'https://hapi.example/fhir', smart: { clientId: 'c' } } },
      }),
    ).toThrow(/export\.source\.smart\.privateKeyFile/);
    expect(parseConfig({}).export.source).toEqual({ type: 'embedded' });
  });
});
