import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks } from 'cdk-nag';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDeployConfig, type DeployConfig } from '../lib/config-sections.js';
import { HandlerCode, type HandlerCodeProvider } from '../lib/lambda/handler-code.js';
import { TributaryStack } from '../lib/tributary-stack.js';

/** The fixture config: a lake table with attribute partitions and filters, a patients table, fhir/catalog/alarms sections. */
export function fixtureConfig(): DeployConfig {
  const file = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'tributary.config.json');
  return parseDeployConfig(JSON.parse(readFileSync(file, 'utf8')), file);
}

/** One violation in the cdk-nag validation report. */
export interface NagViolation {
  plugin: string;
  rule: string;
  paths: string[];
}

/** Result of {@link synthStack}. */
export interface SynthResult {
  app: App;
  stack: TributaryStack;
  outdir: string;
  error?: Error;
  violations: NagViolation[];
  cleanup(): void;
}

/**
 * Synthesises the sample stack with both cdk-nag packs into a temp dir, without throwing on
 * validation failure (the report is returned instead). Env-agnostic unless `env` is given.
 */
export function synthStack(
  options: {
    config?: DeployConfig;
    handlerCode?: HandlerCodeProvider;
    nag?: boolean;
    env?: { account?: string; region: string };
    /** Stack name. Default: `Tributary`. */
    stackName?: string;
    /** Changes the stack before synthesis (negative controls). */
    mutate?: (stack: TributaryStack) => void;
  } = {},
): SynthResult {
  const outdir = mkdtempSync(join(tmpdir(), 'tributary-cdk-'));
  const app = new App({ outdir });
  const stack = new TributaryStack(app, options.stackName ?? 'Tributary', {
    config: options.config ?? fixtureConfig(),
    handlerCode: options.handlerCode ?? HandlerCode.placeholder(),
    // Env-agnostic by default, as `cdk synth` without credentials is.
    ...(options.env ? { env: options.env } : {}),
  });
  options.mutate?.(stack);
  if (options.nag ?? true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new HIPAASecurityChecks(app));
  let error: Error | undefined;
  try {
    app.synth();
  } catch (caught) {
    error = caught as Error;
  }
  const reportFile = join(outdir, 'validation-report.json');
  const violations: NagViolation[] = [];
  if (existsSync(reportFile)) {
    const report = JSON.parse(readFileSync(reportFile, 'utf8')) as {
      pluginReports: Array<{
        pluginName: string;
        violations: Array<{ ruleName: string; violatingConstructs: Array<{ constructPath: string }> }>;
      }>;
    };
    for (const plugin of report.pluginReports) {
      for (const violation of plugin.violations) {
        violations.push({
          plugin: plugin.pluginName,
          rule: violation.ruleName,
          paths: violation.violatingConstructs.map((c) => c.constructPath),
        });
      }
    }
  }
  return {
    app,
    stack,
    outdir,
    ...(error ? { error } : {}),
    violations,
    cleanup: () => rmSync(outdir, { recursive: true, force: true }),
  };
}
