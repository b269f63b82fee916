import { RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { BackfillWorkflow } from './backfill-workflow.js';
import { LakeViewsWriter } from './lake-views-writer.js';
import { DEFAULT_VIEW_FILES, loadViewFiles } from '../../src/views/lake/load-views.js';
import { ChangeStreamToLake } from './change-stream-to-lake.js';
import { DEFAULT_FHIR_TYPES, type DeployConfig } from './config-sections.js';
import { HealthLakeExportPipeline } from './healthlake-export-pipeline.js';
import { LakeCatalog } from './lake-catalog.js';
import type { HandlerCodeProvider } from './lambda/handler-code.js';
import { acknowledge, acknowledgeNagFindings } from './nag-acknowledgements.js';
import { OperationalAlarms } from './operational-alarms.js';
import { PatientEnrichmentPipe } from './patient-enrichment-pipe.js';
import { createDataKey } from './shared/encryption.js';
import { createAccessLogBucket, SecureBucket } from './shared/secure-bucket.js';
import { pipeConfigOf } from './shared/stream-source.js';

/** Props of {@link TributaryStack}. */
export interface TributaryStackProps extends StackProps {
  /** The Tributary config (the file the local runtime reads), with the deployment sections. */
  readonly config: DeployConfig;
  /** Handler bundles (bin/app.ts passes `HandlerCode.fromDist()`; run `npm run build` first). */
  readonly handlerCode: HandlerCodeProvider;
}

/** Reserved concurrency per function when `aws.reservedConcurrency` is on (opt-in). */
export const OPT_IN_RESERVED_CONCURRENCY = { firehoseTransform: 10, patientEnrichment: 10, runLedger: 5 } as const;

/**
 * A Glue database name derived from a stack name: lower-case snake case, only `[a-z0-9_]`.
 *
 * @example
 * glueNameOf('TributaryProd') // 'tributary_prod'
 */
export function glueNameOf(stackName: string): string {
  return stackName
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_')
    .slice(0, 255);
}

/**
 * Names that must be unique per account and region, from the config or else derived from the stack
 * name, so a second stack (`--context stackName=…`) does not collide with the first.
 *
 * @example
 * uniqueNamesOf(config, 'TributaryProd') // { databaseName: 'tributary_prod', workgroupName: 'TributaryProd', datastoreName: 'TributaryProd' }
 */
export function uniqueNamesOf(
  config: DeployConfig,
  stackName: string,
): { databaseName: string; workgroupName: string; datastoreName: string } {
  return {
    databaseName: config.catalog.databaseName ?? glueNameOf(stackName),
    workgroupName: config.catalog.workgroupName ?? stackName,
    datastoreName: config.aws.datastoreName ?? stackName,
  };
}

/**
 * The stack's environment: the config's `region` always (it is where the local runtime's ARNs point,
 * and the deployment honours it), the account from the CDK CLI when it has credentials.
 *
 * @example
 * stackEnvironmentOf(config, process.env) // { region: 'eu-west-1', account: '123456789012' }
 */
export function stackEnvironmentOf(
  config: DeployConfig,
  env: Readonly<Record<string, string | undefined>>,
): { region: string; account?: string } {
  return { region: config.region, ...(env.CDK_DEFAULT_ACCOUNT ? { account: env.CDK_DEFAULT_ACCOUNT } : {}) };
}

/**
 * The whole system from one config: a change pipe per table (`target: lake`), the patient
 * enrichment pipe (`enrichment: patient-fhir`, `target: bus`), the HealthLake export workflow, the
 * catalog, and alarms, all encrypted with one customer-managed key.
 *
 * @example
 * new TributaryStack(app, 'Tributary', { config: parseDeployConfig(raw), handlerCode: HandlerCode.fromDist() });
 */
export class TributaryStack extends Stack {
  public readonly encryptionKey: kms.Key;
  public readonly lakeBucket: s3.Bucket;
  public readonly eventBus: events.EventBus;
  public readonly changePipes: Record<string, ChangeStreamToLake> = {};
  public readonly patientPipes: Record<string, PatientEnrichmentPipe> = {};
  public readonly exportPipeline: HealthLakeExportPipeline;
  /** The `update-views` Lambda and its SUCCEEDED rule. */
  public readonly viewsWriter: LakeViewsWriter;
  public readonly catalog: LakeCatalog;
  public readonly alarms: OperationalAlarms;
  /** The backfill/repair workflow of the lake tables (undefined when no table has `pipe.target: lake`). */
  public readonly backfill?: BackfillWorkflow;

  public constructor(scope: Construct, id: string, props: TributaryStackProps) {
    super(scope, id, props);
    const { config, handlerCode } = props;
    const removalPolicy = config.aws.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;

    this.encryptionKey = createDataKey(this, 'DataKey', { removalPolicy });
    const key = this.encryptionKey;
    const serverAccessLogsBucket = createAccessLogBucket(this, 'AccessLogs', removalPolicy);
    this.lakeBucket = new SecureBucket(this, 'Lake', {
      encryptionKey: key,
      serverAccessLogsBucket,
      serverAccessLogsPrefix: 'lake/',
      removalPolicy,
    }).bucket;
    // S3 events to EventBridge (the views writer's `changes/` rule), natively: no notifications custom resource.
    (this.lakeBucket.node.defaultChild as s3.CfnBucket).addPropertyOverride(
      'NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled',
      true,
    );
    // PatientChange events carry PHI: the bus is encrypted with the stack's customer-managed key.
    this.eventBus = new events.EventBus(this, 'Bus', {
      description: 'Tributary events: PatientChange, FhirResourceChanged, ExportRunFailed',
      kmsKey: key,
    });
    const names = uniqueNamesOf(config, this.stackName);
    const reserve = config.aws.reservedConcurrency;
    this.alarms = new OperationalAlarms(this, 'Alarms', {
      encryptionKey: key,
      ...(config.alarms.email ? { email: config.alarms.email } : {}),
    });

    this.exportPipeline = new HealthLakeExportPipeline(this, 'FhirExport', {
      handlerCode,
      encryptionKey: key,
      lakeBucket: this.lakeBucket,
      serverAccessLogsBucket,
      existingEventBus: this.eventBus,
      ...(config.aws.datastoreId
        ? { existingDatastoreId: config.aws.datastoreId }
        : { datastoreProps: { datastoreName: names.datastoreName } }),
      workflow: config.export,
      ...(config.aws.scheduleExpression ? { schedule: config.aws.scheduleExpression } : {}),
      exportStagingDays: config.aws.exportStagingDays,
      ...(reserve
        ? {
            exportReservedConcurrency: config.aws.exportReservedConcurrency,
            runLedgerFunctionProps: { reservedConcurrentExecutions: OPT_IN_RESERVED_CONCURRENCY.runLedger },
            processFileFunctionProps: { reservedConcurrentExecutions: config.export.mapMaxConcurrency },
          }
        : {}),
      removalPolicy,
    });
    this.alarms.addMetrics('FhirExport', this.exportPipeline.alarmMetrics);

    const lakeTables: Array<{ name: string; partitionBy: readonly string[] }> = [];
    for (const table of config.tables) {
      if (!table.pipe) continue; // a table without `pipe` is not captured, as locally
      const pipe = pipeConfigOf(table);
      const existing = config.aws.existingTables[table.name];
      const existingTable = existing
        ? dynamodb.Table.fromTableAttributes(this, `Existing${table.name}`, {
            tableStreamArn: existing.streamArn,
            tableName: existing.streamArn.split(':table/')[1]!.split('/')[0]!,
            ...(existing.kmsKeyArn
              ? { encryptionKey: kms.Key.fromKeyArn(this, `Existing${table.name}Key`, existing.kmsKeyArn) }
              : {}),
          })
        : undefined;
      const common = {
        table,
        handlerCode,
        encryptionKey: key,
        removalPolicy,
        ...(existingTable ? { existingTable } : {}),
      };
      if (pipe.target === 'bus') {
        const enrichment = config.patientEnrichment;
        const patients = new PatientEnrichmentPipe(this, `Patients-${table.name}`, {
          ...common,
          enrichmentOptions: {
            identifierSystem: enrichment.identifierSystem,
            source: enrichment.source,
            validate: enrichment.validate,
          },
          existingEventBus: this.eventBus,
          ...(reserve
            ? {
                enrichmentFunctionProps: {
                  reservedConcurrentExecutions: OPT_IN_RESERVED_CONCURRENCY.patientEnrichment,
                },
              }
            : {}),
          ...(config.patientEnrichment.writeThrough
            ? {
                healthLakeWriteThrough: {
                  datastoreArn: this.exportPipeline.datastoreArn,
                  datastoreEndpoint: this.exportPipeline.datastoreEndpoint,
                },
              }
            : {}),
        });
        this.patientPipes[table.name] = patients;
        this.alarms.addMetrics(`Patients-${table.name}`, patients.alarmMetrics);
      } else {
        const changes = new ChangeStreamToLake(this, `Changes-${table.name}`, {
          ...common,
          lakeBucket: this.lakeBucket,
          ...(reserve
            ? {
                transformFunctionProps: {
                  reservedConcurrentExecutions: OPT_IN_RESERVED_CONCURRENCY.firehoseTransform,
                },
              }
            : {}),
        });
        this.changePipes[table.name] = changes;
        this.alarms.addMetrics(`Changes-${table.name}`, changes.alarmMetrics);
        lakeTables.push({ name: table.name, partitionBy: pipe.partitionBy });
      }
    }

    const backfillTables = config.tables
      .filter((table) => this.changePipes[table.name] !== undefined)
      .map((table) => {
        const changes = this.changePipes[table.name]!;
        return { config: table, table: changes.table, deadLetterQueue: changes.deadLetterQueue };
      });
    if (backfillTables.length > 0) {
      // DynamoDB exports go to the export bucket's expiring `exports/` staging prefix: the lake is the product.
      this.backfill = new BackfillWorkflow(this, 'Backfill', {
        handlerCode,
        encryptionKey: key,
        tables: backfillTables,
        lakeBucket: this.lakeBucket,
        exportBucket: this.exportPipeline.exportBucket,
        eventBus: this.eventBus,
        removalPolicy,
      });
      this.alarms.addMetrics('Backfill', this.backfill.alarmMetrics);
    }

    this.catalog = new LakeCatalog(this, 'Catalog', {
      lakeBucket: this.lakeBucket,
      changeTables: lakeTables,
      fhirTypes:
        config.catalog.fhirTypes ?? (config.export.types.length > 0 ? config.export.types : [...DEFAULT_FHIR_TYPES]),
      // The config's ViewDefinition files (paths resolved and validated at load), compiled for their columns.
      views: loadViewFiles(config.views ?? DEFAULT_VIEW_FILES).map(({ name, columns }) => ({ name, columns })),
      encryptionKey: key,
      serverAccessLogsBucket,
      databaseName: names.databaseName,
      workgroupName: names.workgroupName,
      projectionStartYear: config.catalog.projectionStartYear,
      partitionValues: config.catalog.partitionValues,
      patientIdAttribute: config.catalog.patientIdAttribute,
      queryResultsRetentionDays: config.catalog.queryResultsRetentionDays,
      removalPolicy,
    });

    this.viewsWriter = new LakeViewsWriter(this, 'ViewsWriter', {
      stateMachine: this.exportPipeline.stateMachine,
      ledgerTable: this.exportPipeline.ledgerTable,
      lakeBucket: this.lakeBucket,
      encryptionKey: key,
      handlerCode,
      viewFiles: config.views ?? DEFAULT_VIEW_FILES,
      removalPolicy,
    });
    this.alarms.addMetrics('ViewsWriter', this.viewsWriter.alarmMetrics);

    acknowledgeNagFindings(this);
    acknowledge(serverAccessLogsBucket, {
      'HIPAA.Security-S3DefaultEncryptionKMS':
        'S3 server access log delivery supports only SSE-S3 on the target bucket; access logs hold request metadata, not PHI payloads.',
      'AwsSolutions-S1': 'This is the server access log bucket; logging it to itself would loop.',
      'HIPAA.Security-S3BucketLoggingEnabled': 'This is the server access log bucket; logging it to itself would loop.',
    });
  }
}
