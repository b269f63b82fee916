import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks } from 'cdk-nag';
import { readFileSync, existsSync } from 'node:fs';
import { demoConfig } from '../../src/config/demo-config.js';
import { DEFAULT_CONFIG_FILE } from '../../src/config/load.js';
import { parseDeployConfig } from '../lib/config-sections.js';
import { HandlerCode } from '../lib/lambda/handler-code.js';
import { stackEnvironmentOf, TributaryStack } from '../lib/tributary-stack.js';

/**
 * CDK app: `npx cdk synth|deploy [--context config=path] [--context stackName=Tributary]`.
 * Reads the same config file as the local runtime (default tributary.config.json, else the demo config).
 */
const app = new App();
const configPath =
  (app.node.tryGetContext('config') as string | undefined) ??
  (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
const raw: unknown = configPath ? JSON.parse(readFileSync(configPath, 'utf8')) : demoConfig;
const config = parseDeployConfig(raw, configPath ?? 'demo config');
const distDir = app.node.tryGetContext('lambdaDist') as string | undefined;

// The config's region always wins over the CLI profile's (CDK_DEFAULT_REGION); the account comes from the CLI.
// Names unique per account (Glue database, Athena workgroup, datastore) derive from the stack name.
new TributaryStack(app, (app.node.tryGetContext('stackName') as string | undefined) ?? 'Tributary', {
  config,
  handlerCode: HandlerCode.fromDist(distDir),
  description: 'Tributary: HealthLake exports and DynamoDB change streams landed in a partitioned, catalogued lake',
  env: stackEnvironmentOf(config, process.env),
});

Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new HIPAASecurityChecks(app));
app.synth();
