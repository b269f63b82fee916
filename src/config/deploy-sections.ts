import { z } from 'zod';

/*
 * Config sections that only the AWS deployment reads (the CDK app in infra/). They live in the one
 * config schema so that a typo in them is caught wherever the file is loaded.
 */

/** FHIR resource types that Tributary lands by default. */
export const DEFAULT_FHIR_TYPES = ['Patient', 'Encounter', 'Observation', 'Condition', 'MedicationRequest'] as const;

/** Glue/Athena catalog over the lake (SYSTEM.md §4). */
export const catalogSectionSchema = z.strictObject({
  /** FHIR types catalogued as `fhir_<type>`. Default: `export.types`, or {@link DEFAULT_FHIR_TYPES} when that is empty (every type). */
  fhirTypes: z
    .array(z.string().regex(/^[A-Z][A-Za-z]+$/, 'a FHIR resource type, e.g. Patient'))
    .min(1)
    .optional(),
  /** Glue database name (unique per account and region). Default: derived from the stack name, `Tributary` → `tributary`, `TributaryProd` → `tributary_prod`. */
  databaseName: z
    .string()
    .regex(/^[a-z0-9_]{1,255}$/, 'lower-case letters, digits and _')
    .optional(),
  /** Athena workgroup name (unique per account and region). Default: the stack name. */
  workgroupName: z
    .string()
    .regex(/^[a-zA-Z0-9._-]{1,128}$/)
    .optional(),
  /** First year partition projection covers. */
  projectionStartYear: z.number().int().min(1970).max(2100).default(2020),
  /** Days Athena query results are kept. */
  queryResultsRetentionDays: z.number().int().min(1).max(3650).default(30),
  /** Known values of attribute partitions (e.g. `{"siteId": ["1","2"]}`): enum projection. Others are `injected` (queries must filter them by equality). */
  partitionValues: z.record(z.string(), z.array(z.string().min(1)).min(1)).default({}),
  /** Patient identifier attribute in change tables, joined with `fhir_patient.id`. */
  patientIdAttribute: z.string().min(1).default('patientId'),
});

/** Where alarms go. */
export const alarmsSectionSchema = z.strictObject({
  /** E-mail subscribed to the alarm topic (confirmation required). No subscription when absent. */
  email: z.string().email().optional(),
});

/** An existing DynamoDB table to capture instead of creating one. */
export const existingTableSchema = z.strictObject({
  /** The table's stream ARN (required: the stream label cannot be derived offline). */
  streamArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table\/[a-zA-Z0-9_.-]+\/stream\/.+$/, 'a DynamoDB stream ARN'),
  /** KMS key ARN of the table, if it uses a customer-managed key (the pipe needs kms:Decrypt). */
  kmsKeyArn: z.string().startsWith('arn:').optional(),
});

/**
 * Deployment-only settings. Workflow timings and policies are NOT here: the stack reads the shared
 * `export` section (src/fhir-export/workflow-config.ts) and `patientEnrichment`, as the local runtime does.
 */
export const awsSectionSchema = z.strictObject({
  /** Use this existing HealthLake datastore instead of creating one. */
  datastoreId: z
    .string()
    .regex(/^[a-f0-9]{32}$/, 'a HealthLake datastore id: 32 lower-case hex characters')
    .optional(),
  /** Name of the datastore created when `datastoreId` is absent. Default: the stack name. */
  datastoreName: z
    .string()
    .regex(/^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,256}$/u)
    .optional(),
  /** EventBridge Scheduler expression overriding `export.scheduleMinutes` (e.g. `cron(0 2 * * ? *)`). */
  scheduleExpression: z
    .string()
    .regex(/^(rate|cron|at)\(.+\)$/, 'rate(...), cron(...) or at(...)')
    .optional(),
  /** Days export staging objects (HealthLake output, manifests) are kept in the export bucket. */
  exportStagingDays: z.number().int().min(1).max(3650).default(7),
  /** Tables that already exist, by config table name. Others are created. */
  existingTables: z.record(z.string(), existingTableSchema).default({}),
  /** `retain` keeps buckets, tables, keys and the datastore on `cdk destroy`; `destroy` removes them (dev only). */
  removalPolicy: z.enum(['retain', 'destroy']).default('retain'),
  /**
   * Reserve Lambda concurrency (opt-in): firehose-transform 10, patient-enrichment 10, run-ledger 5,
   * start-export and check-export `exportReservedConcurrency` each, process-file `export.mapMaxConcurrency`
   * (37 units with the defaults). Off by default: reserved units come out of the account's unreserved
   * pool, which must keep 100, so reserving fails deploys on accounts with low quotas. Without it, the
   * SQS event sources cap start-export and check-export (`maxConcurrency` 2) and the Distributed Map caps
   * process-file.
   */
  reservedConcurrency: z.boolean().default(false),
  /** Reserved concurrency of start-export and check-export each, when `reservedConcurrency` is on. */
  exportReservedConcurrency: z.number().int().min(1).max(100).default(1),
});

export type CatalogSection = z.infer<typeof catalogSectionSchema>;
export type AlarmsSection = z.infer<typeof alarmsSectionSchema>;
export type AwsSection = z.infer<typeof awsSectionSchema>;
export type ExistingTable = z.infer<typeof existingTableSchema>;
