import { describe, expect, it } from 'vitest';
import { leaseSecondsOf, parseExportWorkflowConfig } from '../../../src/fhir-export/workflow-config.js';
import {
  applyWorkflowSettings,
  loadWorkflowDefinition,
} from '../../../src/local/export-runtime/workflow-definition.js';

describe('export workflow settings', () => {
  it('defaults are consistent (checks come more often than the heartbeat timeout)', () => {
    const settings = parseExportWorkflowConfig(undefined);
    expect(settings).toMatchObject({
      heartbeatSeconds: 300,
      maxWaitSeconds: 21_600,
      maxCheckDelaySeconds: 120,
      completedWithErrors: 'fail',
    });
    // Check early and back off (2 s, ×1.5, at most 120 s), not a fixed 30 s before the first check.
    expect(settings).toMatchObject({ initialCheckDelaySeconds: 2, backoffMultiplier: 1.5 });
    // The lock lease is twice the heartbeat unless set.
    expect(leaseSecondsOf(settings)).toBe(600);
    expect(leaseSecondsOf(parseExportWorkflowConfig({ heartbeatSeconds: 60, maxCheckDelaySeconds: 30 }))).toBe(120);
    expect(leaseSecondsOf(parseExportWorkflowConfig({ leaseSeconds: 900 }))).toBe(900);
    expect(() => parseExportWorkflowConfig({ heartbeatSeconds: 60, maxCheckDelaySeconds: 60 })).toThrow(
      /maxCheckDelaySeconds/,
    );
  });

  it('applies timings to the contract states of the committed ASL', () => {
    const { definition } = loadWorkflowDefinition();
    const applied = applyWorkflowSettings(
      definition,
      parseExportWorkflowConfig({
        heartbeatSeconds: 7,
        initialCheckDelaySeconds: 1,
        maxCheckDelaySeconds: 3,
        mapMaxConcurrency: 2,
        executionTimeoutSeconds: 99,
      }),
    ) as {
      TimeoutSeconds: number;
      States: Record<string, Record<string, unknown>>;
    };
    expect(applied.TimeoutSeconds).toBe(99);
    expect(applied.States.StartExport).toMatchObject({ HeartbeatSeconds: 7, TimeoutSeconds: 21_600 });
    expect(applied.States.ProcessFiles).toMatchObject({ MaxConcurrency: 2, ToleratedFailurePercentage: 0 });
    expect(
      (definition as { States: Record<string, { HeartbeatSeconds?: number }> }).States.StartExport!.HeartbeatSeconds,
    ).toBe(300); // not mutated
  });
});
