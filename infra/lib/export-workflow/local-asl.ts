import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IConstruct } from 'constructs';
import { demoConfig } from '../../../src/config/demo-config.js';
import { parseDeployConfig } from '../config-sections.js';
import type { HealthLakeExportPipeline } from '../healthlake-export-pipeline.js';
import { HandlerCode } from '../lambda/handler-code.js';
import { TributaryStack } from '../tributary-stack.js';

/**
 * Placeholders the local executor resolves, per /tmp/team/EXPORT_WORKFLOW.md. Pseudo parameters:
 * `AWS::Partition` becomes `aws`; any other reference is an error (so a new one gets a name here).
 */
export const LOCAL_PLACEHOLDERS = {
  runLedger: 'local:run-ledger',
  processFile: 'local:process-file',
  startQueue: 'local:start-export-queue',
  eventBus: 'local:event-bus',
} as const;

/** Where the generated ASL is committed (relative to the repository root). */
export const LOCAL_WORKFLOW_FILE = 'src/fhir-export/workflow.asl.json';

type Intrinsic = string | { Ref: string } | { 'Fn::GetAtt': [string, string] };

function logicalIdOf(construct: IConstruct): string {
  const element = (construct.node.defaultChild ?? construct) as CfnElement;
  if (!CfnElement.isCfnElement(element)) throw new Error(`${construct.node.path} has no CloudFormation resource`);
  return Stack.of(element).resolve(element.logicalId) as string;
}

/**
 * Logical id -> placeholder for the resources the export workflow references.
 *
 * @example
 * const references = localReferences(stack.exportPipeline);
 */
export function localReferences(pipeline: HealthLakeExportPipeline): Record<string, string> {
  return {
    // The sample stack's own functions (an existing function has no logical id here).
    [logicalIdOf(pipeline.runLedgerFunction)]: LOCAL_PLACEHOLDERS.runLedger,
    [logicalIdOf(pipeline.processFileFunction)]: LOCAL_PLACEHOLDERS.processFile,
    [logicalIdOf(pipeline.startQueue.queue)]: LOCAL_PLACEHOLDERS.startQueue,
    [logicalIdOf(pipeline.eventBus)]: LOCAL_PLACEHOLDERS.eventBus,
  };
}

/**
 * Turns a synthesised `DefinitionString` (a string or `Fn::Join` of strings and references) into
 * the ASL object the local executor runs, replacing references by placeholders.
 *
 * @example
 * const asl = localizeDefinition(template.Resources[id].Properties.DefinitionString, localReferences(pipeline));
 */
export function localizeDefinition(
  definitionString: unknown,
  references: Readonly<Record<string, string>>,
): Record<string, unknown> {
  const resolvePart = (part: Intrinsic): string => {
    if (typeof part === 'string') return part;
    if ('Ref' in part) {
      if (part.Ref === 'AWS::Partition') return 'aws';
      const placeholder = references[part.Ref];
      if (placeholder) return placeholder;
      throw new Error(`export workflow references ${part.Ref}, which has no local placeholder`);
    }
    if ('Fn::GetAtt' in part) {
      const placeholder = references[part['Fn::GetAtt'][0]];
      if (placeholder) return placeholder;
      throw new Error(`export workflow references ${part['Fn::GetAtt'].join('.')}, which has no local placeholder`);
    }
    throw new Error(`unsupported intrinsic in the export workflow definition: ${JSON.stringify(part)}`);
  };
  let text: string;
  if (typeof definitionString === 'string') text = definitionString;
  else if (definitionString && typeof definitionString === 'object' && 'Fn::Join' in definitionString) {
    const [separator, parts] = (definitionString as { 'Fn::Join': [string, Intrinsic[]] })['Fn::Join'];
    text = parts.map(resolvePart).join(separator);
  } else throw new Error(`unexpected DefinitionString: ${JSON.stringify(definitionString).slice(0, 200)}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/**
 * The deployed definition of a stack's export workflow, with references replaced by placeholders.
 *
 * @example
 * const asl = localWorkflowOf(stack, template);
 */
export function localWorkflowOf(
  stack: TributaryStack,
  template: { Resources: Record<string, { Properties?: Record<string, unknown> }> },
): Record<string, unknown> {
  const pipeline = stack.exportPipeline;
  const resource = template.Resources[logicalIdOf(pipeline.stateMachine)];
  if (!resource?.Properties) throw new Error('state machine not found in the template');
  return localizeDefinition(resource.Properties.DefinitionString, localReferences(pipeline));
}

/**
 * Synthesises the sample stack with the demo config (config defaults for heartbeat, timeouts and
 * concurrency) and returns the local ASL as the committed file's text (2-space JSON, newline).
 *
 * @example
 * writeFileSync(LOCAL_WORKFLOW_FILE, generateLocalWorkflowAsl());
 */
export function generateLocalWorkflowAsl(): string {
  const outdir = mkdtempSync(join(tmpdir(), 'tributary-asl-'));
  try {
    const app = new App({ outdir });
    const stack = new TributaryStack(app, 'Tributary', {
      config: parseDeployConfig(demoConfig, 'demo config'),
      handlerCode: HandlerCode.placeholder(),
      env: { account: '123456789012', region: 'us-east-1' },
    });
    const template = app.synth().getStackArtifact(stack.artifactId).template as Parameters<typeof localWorkflowOf>[1];
    return `${JSON.stringify(localWorkflowOf(stack, template), null, 2)}\n`;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
