import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ExportWorkflowConfig } from '../../fhir-export/workflow-config.js';

/** The committed ASL (generated from the CDK definition). */
export const WORKFLOW_ASL_PATH = fileURLToPath(new URL('../../fhir-export/workflow.asl.json', import.meta.url));

type Json = Record<string, unknown>;

/**
 * Loads the export workflow's ASL: `src/fhir-export/workflow.asl.json`, synthesised from the CDK definition
 * (`npm run synth:workflow`), the same definition AWS runs.
 *
 * @example
 * const { definition, source } = loadWorkflowDefinition();
 */
export function loadWorkflowDefinition(path?: string): { definition: Json; source: string } {
  const file = path ?? WORKFLOW_ASL_PATH;
  if (!existsSync(file)) throw new Error(`export workflow definition not found: ${file} (run npm run synth:workflow)`);
  return { definition: JSON.parse(readFileSync(file, 'utf8')) as Json, source: file };
}

/**
 * Applies the config's timings to the contract's states (as the CDK stack bakes them into the deployed ASL):
 * StartExport HeartbeatSeconds/TimeoutSeconds, ProcessFiles MaxConcurrency/ToleratedFailurePercentage, machine TimeoutSeconds.
 *
 * @example
 * const definition = applyWorkflowSettings(loadWorkflowDefinition().definition, parseExportWorkflowConfig({ heartbeatSeconds: 5 }));
 */
export function applyWorkflowSettings(definition: Json, config: ExportWorkflowConfig): Json {
  const copy = structuredClone(definition) as Json & { States: Record<string, Json> };
  copy.TimeoutSeconds = config.executionTimeoutSeconds;
  const start = copy.States.StartExport;
  if (start) {
    start.HeartbeatSeconds = config.heartbeatSeconds;
    start.TimeoutSeconds = config.maxWaitSeconds;
  }
  const map = copy.States.ProcessFiles;
  if (map) {
    map.MaxConcurrency = config.mapMaxConcurrency;
    map.ToleratedFailurePercentage = config.toleratedFailurePercentage;
  }
  return copy;
}
