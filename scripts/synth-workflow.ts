/**
 * Writes src/fhir-export/workflow.asl.json: the export state machine exactly as CDK deploys it,
 * with resource references replaced by `local:*` placeholders for the local executor.
 * Usage: `npm run synth:workflow` (`--check` exits 1 if the committed file is stale).
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { generateLocalWorkflowAsl, LOCAL_WORKFLOW_FILE } from '../infra/lib/export-workflow/local-asl.js';
import { REPO_ROOT } from '../infra/lib/lambda/handler-code.js';

const file = join(REPO_ROOT, LOCAL_WORKFLOW_FILE);
const asl = generateLocalWorkflowAsl();
if (process.argv.includes('--check')) {
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '';
  if (current !== asl) {
    console.error(`${LOCAL_WORKFLOW_FILE} is stale: run npm run synth:workflow`);
    process.exit(1);
  }
  console.log(`${LOCAL_WORKFLOW_FILE} is up to date`);
} else {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, asl);
  console.log(`wrote ${LOCAL_WORKFLOW_FILE} (${asl.length} bytes)`);
}
