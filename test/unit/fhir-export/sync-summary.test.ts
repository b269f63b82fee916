import { describe, expect, it } from 'vitest';
import { syncExitCode } from '../../../src/cli/commands/sync.js';
import { describeExportRun, describePipe } from '../../../src/cli/sync-cycle.js';

describe('sync summary lines and exit codes', () => {
  it('a pipe line shows rejected records only when there are some', () => {
    expect(describePipe({ name: 'visits', read: 3, filteredOut: 1, delivered: 1, rejected: 1 })).toBe(
      'pipe visits: 3 records read, 1 filtered out, 1 delivered, 1 rejected',
    );
    expect(describePipe({ name: 'visits', read: 3, filteredOut: 1, delivered: 2, rejected: 0 })).toBe(
      'pipe visits: 3 records read, 1 filtered out, 2 delivered',
    );
  });

  it('an export line says why a run was skipped, and its errors by type', () => {
    expect(
      describeExportRun({ runId: 'r2', status: 'SKIPPED', reason: 'run r1 is running (owner up (pid 7 on h))' }),
    ).toBe('export: skipped: run r1 is running (owner up (pid 7 on h))');
    expect(
      describeExportRun({
        runId: 'r3',
        status: 'COMPLETED_WITH_ERRORS',
        counts: {
          Patient: { resources: 2, deleted: 1, errors: 0 },
          OperationOutcome: { resources: 0, deleted: 0, errors: 3 },
        },
        errors: { OperationOutcome: 3 },
      }),
    ).toBe(
      'export run r3: COMPLETED_WITH_ERRORS, 2 resources and 1 deletions landed; errors by type: OperationOutcome 3 (see the errors view, _errors/fhir-export/)',
    );
  });

  it('exit codes: 0 completed, 3 skipped, 4 completed with errors, 1 failed', () => {
    expect(['COMPLETED', 'SKIPPED', 'COMPLETED_WITH_ERRORS', 'FAILED'].map(syncExitCode)).toEqual([0, 3, 4, 1]);
  });
});
