import type { ExportStepDeps } from '../../../src/fhir-export/export-steps.js';
import type { Clock } from '../../../src/ports/clock.js';
import type { FhirExportSource } from '../../../src/fhir-export/types.js';

/**
 * Export step dependencies around a real `source`: every failure callback is recorded in `failures` as
 * `error|cause`, while the other callbacks, the recheck queue and the manifest store do nothing.
 */
export function recordingStepDeps(source: FhirExportSource, failures: string[], clock?: Clock): ExportStepDeps {
  return {
    source,
    callbacks: {
      success: async () => undefined,
      failure: async (_token, error, cause) => void failures.push(`${error}|${cause}`),
      heartbeat: async () => undefined,
    },
    recheckQueue: { send: async () => undefined },
    manifestStore: { put: async () => undefined } as unknown as ExportStepDeps['manifestStore'],
    ...(clock ? { clock } : {}),
    policy: {
      initialCheckDelaySeconds: 2,
      maxCheckDelaySeconds: 120,
      backoffMultiplier: 1.5,
      maxWaitSeconds: 3600,
      maxDescribeErrors: 5,
      completedWithErrors: 'fail',
      manifestBucket: 'exports',
      manifestPrefix: 'manifests/',
    },
  };
}
