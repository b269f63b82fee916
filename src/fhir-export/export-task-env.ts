import { z } from 'zod';

const seconds = (fallback: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().min(0).max(max).default(fallback);
const csv = z
  .string()
  .default('')
  .transform((value) =>
    value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );

/**
 * Environment of the start-export and check-export Lambdas (the CDK stack sets these).
 * `SOURCE_KIND=healthlake` (default) signs FHIR REST with SigV4; `bulk-data` talks to any Bulk Data v2 server,
 * with SMART Backend Services auth when `SMART_CLIENT_ID` is set.
 */
export const exportTaskEnvSchema = z.object({
  SOURCE_KIND: z.enum(['healthlake', 'bulk-data']).default('healthlake'),
  /** `https://healthlake.<region>.amazonaws.com/datastore/<id>/r4`, or the Bulk Data server base. */
  FHIR_BASE_URL: z.url(),
  /** Signing region; default the Lambda's AWS_REGION. */
  HEALTHLAKE_REGION: z.string().min(1).optional(),
  AWS_REGION: z.string().min(1).optional(),
  /** HealthLake datastore id (enables the ListFHIRExportJobs idempotency check). */
  DATASTORE_ID: z.string().optional(),
  /** Where HealthLake writes exports, `s3://bucket/prefix/`. */
  EXPORT_OUTPUT_S3_URI: z.string().regex(/^s3:\/\/[^/]+/),
  EXPORT_KMS_KEY_ID: z.string().optional(),
  DATA_ACCESS_ROLE_ARN: z.string().optional(),
  /** Export bucket: manifests (and Bulk Data copies) are written here. */
  EXPORT_BUCKET: z.string().min(3),
  MANIFEST_PREFIX: z.string().default('manifests/'),
  EXPORT_TYPES: csv,
  LEDGER_TABLE: z.string().min(3),
  RECHECK_QUEUE_URL: z.url(),
  INITIAL_CHECK_DELAY_SECONDS: seconds(2, 900),
  /** Longest delay between checks, Retry-After included: keep it below the StartExport HeartbeatSeconds (default 300). */
  MAX_CHECK_DELAY_SECONDS: seconds(120, 900),
  BACKOFF_MULTIPLIER: z.coerce.number().min(1).max(10).default(1.5),
  MAX_WAIT_SECONDS: seconds(6 * 3600),
  MAX_DESCRIBE_ERRORS: z.coerce.number().int().min(0).default(5),
  COMPLETED_WITH_ERRORS: z.enum(['fail', 'continue']).default('fail'),
  SMART_CLIENT_ID: z.string().optional(),
  SMART_TOKEN_URL: z.url().optional(),
  /** PEM private key (a KMS-encrypted Lambda environment variable). */
  SMART_PRIVATE_KEY_PEM: z.string().optional(),
  SMART_ALGORITHM: z.enum(['RS384', 'ES384']).default('RS384'),
  SMART_KEY_ID: z.string().optional(),
  SMART_SCOPE: z.string().optional(),
});

export type ExportTaskEnv = z.infer<typeof exportTaskEnvSchema>;

/** Environment of process-file. */
export const processFileEnvSchema = z.object({
  AWS_REGION: z.string().min(1).optional(),
  /** Lake bucket and optional prefix. */
  LAKE_BUCKET: z.string().min(3),
  LAKE_PREFIX: z.string().default(''),
  LAKE_KMS_KEY_ID: z.string().optional(),
  /** `true` publishes FhirResourceChanged events to EVENT_BUS_NAME. */
  EMIT_EVENTS: z.enum(['true', 'false']).default('false'),
  EVENT_BUS_NAME: z.string().optional(),
  /** Memory budget of buffered lake lines, MiB. */
  MAX_BUFFER_MIB: z.coerce.number().min(1).max(1024).default(16),
});

/** Environment of run-ledger. */
export const runLedgerEnvSchema = z.object({
  AWS_REGION: z.string().min(1).optional(),
  LEDGER_TABLE: z.string().min(3),
  /** Lock lease, seconds (default 600 = twice the default heartbeat; a RUNNING owner is never taken over). */
  LEASE_SECONDS: z.coerce.number().int().positive().default(600),
});

/**
 * Validates a Lambda environment against a schema, naming every bad variable (never their values).
 *
 * @example
 * const env = parseEnvironment(exportTaskEnvSchema, process.env);
 */
export function parseEnvironment<T extends z.ZodType>(schema: T, env: NodeJS.ProcessEnv): z.infer<T> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const names = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new Error(`invalid Lambda environment: ${names}`);
  }
  return result.data;
}
