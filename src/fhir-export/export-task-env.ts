import * as z from '../validation/zod-mini.js';

const seconds = (fallback: number, max = Number.MAX_SAFE_INTEGER) =>
  z._default(z.coerce.number().check(z.minimum(0), z.maximum(max)), fallback);
const csv = z.pipe(
  z._default(z.string(), ''),
  z.transform((value: string) =>
    value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  ),
);
const nonEmpty = () => z.string().check(z.minLength(1));
const atLeast3 = () => z.string().check(z.minLength(3));

/**
 * Environment of the start-export and check-export Lambdas (the CDK stack sets these).
 * `SOURCE_KIND=healthlake` (default) signs FHIR REST with SigV4; `bulk-data` talks to any Bulk Data v2 server,
 * with SMART Backend Services auth when `SMART_CLIENT_ID` is set.
 */
export const exportTaskEnvSchema = z.object({
  SOURCE_KIND: z._default(z.enum(['healthlake', 'bulk-data']), 'healthlake'),
  /** `https://healthlake.<region>.amazonaws.com/datastore/<id>/r4`, or the Bulk Data server base. */
  FHIR_BASE_URL: z.url(),
  /** Signing region; default the Lambda's AWS_REGION. */
  HEALTHLAKE_REGION: z.optional(nonEmpty()),
  AWS_REGION: z.optional(nonEmpty()),
  /** HealthLake datastore id (enables the ListFHIRExportJobs idempotency check). */
  DATASTORE_ID: z.optional(z.string()),
  /** Where HealthLake writes exports, `s3://bucket/prefix/`. */
  EXPORT_OUTPUT_S3_URI: z.string().check(z.regex(/^s3:\/\/[^/]+/)),
  EXPORT_KMS_KEY_ID: z.optional(z.string()),
  DATA_ACCESS_ROLE_ARN: z.optional(z.string()),
  /**
   * How HealthLake jobs are started and described: `fhir-rest` (`$export?_since=`, incremental) or `control-plane`
   * (`StartFHIRExportJob`/`DescribeFHIRExportJob`: needs DATASTORE_ID and DATA_ACCESS_ROLE_ARN; always a full export).
   */
  HEALTHLAKE_EXPORT_API: z._default(z.enum(['fhir-rest', 'control-plane']), 'fhir-rest'),
  /** Export bucket: manifests (and Bulk Data copies) are written here. */
  EXPORT_BUCKET: atLeast3(),
  MANIFEST_PREFIX: z._default(z.string(), 'manifests/'),
  EXPORT_TYPES: csv,
  LEDGER_TABLE: atLeast3(),
  RECHECK_QUEUE_URL: z.url(),
  INITIAL_CHECK_DELAY_SECONDS: seconds(2, 900),
  /** Longest delay between checks, Retry-After included: keep it below the StartExport HeartbeatSeconds (default 300). */
  MAX_CHECK_DELAY_SECONDS: seconds(120, 900),
  BACKOFF_MULTIPLIER: z._default(z.coerce.number().check(z.minimum(1), z.maximum(10)), 1.5),
  MAX_WAIT_SECONDS: seconds(6 * 3600),
  MAX_DESCRIBE_ERRORS: z._default(z.coerce.number().check(z.int(), z.minimum(0)), 5),
  COMPLETED_WITH_ERRORS: z._default(z.enum(['fail', 'continue']), 'fail'),
  SMART_CLIENT_ID: z.optional(z.string()),
  SMART_TOKEN_URL: z.optional(z.url()),
  /** PEM private key (a KMS-encrypted Lambda environment variable). */
  SMART_PRIVATE_KEY_PEM: z.optional(z.string()),
  SMART_ALGORITHM: z._default(z.enum(['RS384', 'ES384']), 'RS384'),
  SMART_KEY_ID: z.optional(z.string()),
  SMART_SCOPE: z.optional(z.string()),
});

export type ExportTaskEnv = z.infer<typeof exportTaskEnvSchema>;

/** Environment of process-file. */
export const processFileEnvSchema = z.object({
  AWS_REGION: z.optional(nonEmpty()),
  /** Lake bucket and optional prefix. */
  LAKE_BUCKET: atLeast3(),
  LAKE_PREFIX: z._default(z.string(), ''),
  LAKE_KMS_KEY_ID: z.optional(z.string()),
  /** `true` publishes FhirResourceChanged events to EVENT_BUS_NAME. */
  EMIT_EVENTS: z._default(z.enum(['true', 'false']), 'false'),
  EVENT_BUS_NAME: z.optional(z.string()),
  /** Memory budget of buffered lake lines, MiB. */
  MAX_BUFFER_MIB: z._default(z.coerce.number().check(z.minimum(1), z.maximum(1024)), 16),
});

/** Environment of update-views (the views writer). */
export const updateViewsEnvSchema = z.object({
  AWS_REGION: z.optional(nonEmpty()),
  /** Lake bucket and optional prefix (as process-file's). */
  LAKE_BUCKET: atLeast3(),
  LAKE_PREFIX: z._default(z.string(), ''),
  LAKE_KMS_KEY_ID: z.optional(z.string()),
  /** The run ledger table (read only: the run's status and transactionTime). */
  LEDGER_TABLE: atLeast3(),
  /** Directory of the ViewDefinition JSON files (default `views/` beside the handler, in the function's asset). */
  VIEWS_DIR: z.optional(nonEmpty()),
  /** Scratch directory for staging and Parquet (default the OS temp dir, /tmp on Lambda). */
  SCRATCH_DIR: z.optional(nonEmpty()),
});
export type UpdateViewsEnv = z.infer<typeof updateViewsEnvSchema>;

/** Environment of run-ledger. */
export const runLedgerEnvSchema = z.object({
  AWS_REGION: z.optional(nonEmpty()),
  LEDGER_TABLE: atLeast3(),
  /** Lock lease, seconds (default 600 = twice the default heartbeat; a RUNNING owner is never taken over). */
  LEASE_SECONDS: z._default(z.coerce.number().check(z.int(), z.positive()), 600),
  /**
   * The recheck queue: a failed run's job is cancelled by sending `{action:'cancel', …}` there, for check-export
   * (which holds the FHIR credentials) to act on. Unset: the ledger cancels nothing.
   */
  RECHECK_QUEUE_URL: z.optional(z.url()),
});

export type RunLedgerEnv = z.infer<typeof runLedgerEnvSchema>;

/**
 * Validates a Lambda environment against a schema, naming every bad variable (never their values).
 *
 * @example
 * const env = parseEnvironment(exportTaskEnvSchema, process.env);
 */
export function parseEnvironment<T extends z.ZodMiniType>(schema: T, env: NodeJS.ProcessEnv): z.infer<T> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const names = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new Error(`invalid Lambda environment: ${names}`);
  }
  return result.data;
}
