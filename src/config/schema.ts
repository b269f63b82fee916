import { z } from 'zod';
import { exportWorkflowConfigSchema } from '../fhir-export/workflow-config.js';
import { alarmsSectionSchema, awsSectionSchema, catalogSectionSchema } from './deploy-sections.js';

/** An EventBridge event pattern, checked in depth by the event-pattern compiler at load. */
export const eventPatternSchema = z.record(z.string(), z.unknown());

/** DynamoDB stream view types. */
export const streamViewTypeSchema = z.enum(['NEW_AND_OLD_IMAGES', 'NEW_IMAGE', 'OLD_IMAGE', 'KEYS_ONLY']);

/** Where a change's event time comes from; default is the stream's ApproximateCreationDateTime. */
export const eventTimeSchema = z.strictObject({
  /** Item attribute holding the event time. */
  attribute: z.string().min(1),
  /** `ms` and `s` are epoch numbers; `iso` is an ISO-8601 string. */
  unit: z.enum(['ms', 's', 'iso']).default('ms'),
});

/** The local equivalent of an EventBridge Pipe from a table's stream, and its Firehose-style target. */
export const pipeSchema = z.strictObject({
  /** Event patterns; a record passes if it matches any. Empty means everything passes. */
  filter: z.array(eventPatternSchema).default([]),
  /** Hive partition columns: item attributes and the time parts `year`, `month`, `day`, `hour`, `minute`. */
  partitionBy: z.array(z.string().min(1)).min(1).default(['year', 'month', 'day']),
  eventTime: eventTimeSchema.optional(),
  /** Records per pipe batch (Pipes' BatchSize). */
  batchSize: z.number().int().min(1).max(10_000).default(100),
  /** Seconds the pipe waits to fill a batch (Pipes' MaximumBatchingWindowInSeconds). */
  batchWindowSeconds: z.number().min(0).max(300).default(0),
  /** Buffer interval of the lake target, seconds (Firehose BufferingHints.IntervalInSeconds). */
  flushSeconds: z.number().min(0).max(900).default(60),
  /** Buffer size of the lake target, MiB (Firehose BufferingHints.SizeInMBs). */
  flushMiB: z.number().min(0.001).max(128).default(5),
  /** Optional enrichment step, by name. */
  enrichment: z.enum(['patient-fhir']).optional(),
  /** Where batches go: the partitioned lake (default), or the event bus. */
  target: z.enum(['lake', 'bus']).default('lake'),
  /** Where a pipe with no checkpoint starts reading. */
  startingPosition: z.enum(['TRIM_HORIZON', 'LATEST']).default('TRIM_HORIZON'),
  /**
   * Retries of a failing batch before it is bisected to the record at fault, which then goes to `_errors/<pipe>/`
   * (Pipes' MaximumRetryAttempts, with OnPartialBatchItemFailure AUTOMATIC_BISECT). Unset: 3 locally, 10 in the CDK
   * pipe. Pipes' own -1 (retry until the record leaves the stream) is not allowed: it lets one record stop the pipe.
   */
  maximumRetryAttempts: z.number().int().min(0).max(10_000).optional(),
  /**
   * What a pipe with no checkpoint does on a table that already holds items its stream never saw: `initial` (default)
   * lands a snapshot of the table (a FULL export, every item as an `r` record) and then streams from the position it
   * recorded before the export; `never` only streams.
   */
  snapshot: z.enum(['initial', 'never']).default('initial'),
});

/** Options of the `patient-fhir` enrichment (SYSTEM.md §2). */
export const patientEnrichmentSchema = z.strictObject({
  /** FHIR identifier system of the domain patient id. */
  identifierSystem: z.string().min(1).default('urn:tributary:patient-id'),
  /** Event source of PatientChange events. */
  source: z.string().min(1).default('tributary.patients'),
  /**
   * Validate every produced Patient against the FHIR R4 definitions (invalid ones go to `_errors`).
   * The mapping is valid by construction and tested; this costs ~1 s and ~70 MB to load definitions.
   */
  validate: z.boolean().default(false),
  /** Also write each Patient to the FHIR store (conditional PUT; DELETE for removals). */
  writeThrough: z.boolean().default(false),
});

/** The embedded DynamoDB (local runtime only; AWS keeps stream records 24 hours). */
export const localDynamoDbSchema = z.strictObject({
  /**
   * Seconds the embedded DynamoDB keeps stream records before trimming them (DynamoDB Streams: 24 h). Unset: 24 h, or
   * the `TRIBUTARY_STREAM_RETENTION_SECONDS` environment variable. Short values let you try gap repair.
   */
  streamRetentionSeconds: z.number().int().min(1).max(86_400).optional(),
});

/** A DynamoDB table Tributary captures. */
export const tableSchema = z.strictObject({
  name: z.string().regex(/^[a-zA-Z0-9_.-]{3,255}$/, 'a DynamoDB table name: 3-255 characters of a-z A-Z 0-9 _ . -'),
  partitionKey: z.string().min(1),
  partitionKeyType: z.enum(['S', 'N', 'B']).default('S'),
  sortKey: z.string().min(1).optional(),
  sortKeyType: z.enum(['S', 'N', 'B']).default('S'),
  stream: streamViewTypeSchema.default('NEW_AND_OLD_IMAGES'),
  /** TTL attribute, if the table uses TTL. */
  ttlAttribute: z.string().min(1).optional(),
  pipe: pipeSchema.optional(),
});

/**
 * The whole Tributary config file (`tributary.config.json`). Every object is strict: an unknown (e.g. misspelled)
 * key is an error, never silently ignored.
 */
export const configSchema = z
  .strictObject({
    /** JSON Schema reference for editors; ignored. */
    $schema: z.string().optional(),
    /** AWS region used in ARNs and by the embedded services. */
    region: z.string().min(1).default('us-east-1'),
    /** Lake directory (local). Default `<state dir>/lake`. */
    lake: z.string().min(1).optional(),
    tables: z.array(tableSchema).default([]),
    /** The embedded DynamoDB (local runtime). */
    dynamodb: localDynamoDbSchema.prefault({}),
    patientEnrichment: patientEnrichmentSchema.prefault({}),
    /** The incremental FHIR export workflow (timings, polling, policies); the CDK stack reads the same section. */
    export: exportWorkflowConfigSchema.prefault({}),
    /**
     * SQL-on-FHIR v2 ViewDefinition files materialised in the lake (`views/<name>/`, `view_<name>` in queries), paths
     * relative to the config file. Unset: the shipped set (patient, observation, condition, encounter); `[]`: none.
     * Each is compiled at load: an invalid one is a config error naming its element.
     */
    views: z.array(z.string().min(1)).optional(),
    /** Glue/Athena catalog (AWS deployment). */
    catalog: catalogSectionSchema.prefault({}),
    /** Where alarms go (AWS deployment). */
    alarms: alarmsSectionSchema.prefault({}),
    /** AWS-only settings: existing datastore and tables, schedule, retention (AWS deployment). */
    aws: awsSectionSchema.prefault({}),
  })
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.tables.forEach((table, index) => {
      if (seen.has(table.name)) {
        ctx.addIssue({ code: 'custom', path: ['tables', index, 'name'], message: `duplicate table ${table.name}` });
      }
      seen.add(table.name);
    });
  });

export type TributaryConfig = z.infer<typeof configSchema>;
export type TributaryConfigInput = z.input<typeof configSchema>;
export type TableConfig = z.infer<typeof tableSchema>;
export type PipeConfig = z.infer<typeof pipeSchema>;
export type PatientEnrichmentConfig = z.infer<typeof patientEnrichmentSchema>;
export type EventTimeConfig = z.infer<typeof eventTimeSchema>;
