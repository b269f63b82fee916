/**
 * The backfill/repair workflow's ASL (`workflow.asl.json` beside this file): one definition, deployed by the CDK
 * construct (`infra/lib/backfill-workflow.ts`, with `definitionSubstitutions`) and run locally by the state-machine
 * executor (substituted here).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The committed ASL. */
export const BACKFILL_WORKFLOW_ASL_PATH = fileURLToPath(new URL('./workflow.asl.json', import.meta.url));

/** The `${…}` placeholders of the ASL: CDK's `definitionSubstitutions`, and the local binding's values. */
export const BACKFILL_WORKFLOW_SUBSTITUTIONS = ['BackfillFunctionArn', 'EventBusName'] as const;

/** A value for each placeholder. */
export type BackfillWorkflowSubstitutions = Record<(typeof BACKFILL_WORKFLOW_SUBSTITUTIONS)[number], string>;

/** State names the construct, its tests and the local binding rely on. */
export const BACKFILL_STATES = {
  plan: 'Plan',
  exportFull: 'ExportFull',
  exportIncremental: 'ExportIncremental',
  describeExport: 'DescribeExport',
  waitForExport: 'WaitForExport',
  landFiles: 'LandFiles',
  landFile: 'LandFile',
  summarize: 'Summarize',
  publishCompleted: 'PublishCompleted',
  publishFailure: 'PublishFailure',
  failed: 'BackfillFailed',
} as const;

/**
 * The ASL text with its `${…}` placeholders (what CDK's `DefinitionBody.fromString` takes).
 *
 * @example
 * const text = backfillWorkflowText();
 */
export function backfillWorkflowText(path: string = BACKFILL_WORKFLOW_ASL_PATH): string {
  return readFileSync(path, 'utf8');
}

/**
 * The ASL with every placeholder replaced, parsed (what the local executor runs). A placeholder without a value, or
 * a value that is not a plain string for JSON, is an error.
 *
 * @example
 * const definition = loadBackfillWorkflow({ BackfillFunctionArn: 'local:backfill', EventBusName: 'local:event-bus' });
 */
export function loadBackfillWorkflow(substitutions: BackfillWorkflowSubstitutions): Record<string, unknown> {
  const text = backfillWorkflowText().replace(/\$\{([A-Za-z0-9]+)\}/g, (_match, name: string) => {
    const value = (substitutions as Record<string, string | undefined>)[name];
    if (value === undefined) throw new Error(`backfill workflow placeholder \${${name}} has no value`);
    return JSON.stringify(value).slice(1, -1);
  });
  return JSON.parse(text) as Record<string, unknown>;
}
