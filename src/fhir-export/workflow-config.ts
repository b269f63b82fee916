import { z } from 'zod';

/** SMART Backend Services (client-credentials with a signed JWT) for a Bulk Data server. */
export const smartAuthConfigSchema = z.strictObject({
  /** Token endpoint; default: discovered from `<baseUrl>/.well-known/smart-configuration`. */
  tokenUrl: z.url().optional(),
  clientId: z.string().min(1),
  /** File holding the PEM private key (RSA for RS384, EC P-384 for ES384). Keys never go in the config itself. */
  privateKeyFile: z.string().min(1),
  algorithm: z.enum(['RS384', 'ES384']).default('RS384'),
  keyId: z.string().min(1).optional(),
  scope: z.string().min(1).default('system/*.read'),
});

/**
 * Where the LOCAL runtime exports from: the embedded HealthLake-compatible store (default), or any FHIR
 * Bulk Data v2 server (HAPI, SMART's reference server…). The AWS stack always exports from its HealthLake datastore.
 */
export const exportSourceConfigSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('embedded'),
    /** `fhir-rest` (default): `$export` with `_since`; `control-plane`: StartFHIRExportJob, always a full export. */
    api: z.enum(['fhir-rest', 'control-plane']).optional(),
  }),
  z.strictObject({ type: z.literal('bulk-data'), baseUrl: z.url(), smart: smartAuthConfigSchema.optional() }),
]);

/**
 * Settings of the export workflow (state-machine timings, polling, policies). The CDK stack and the local runtime read
 * the same object; the lead can nest it as `export` in the Tributary config.
 */
export const exportWorkflowConfigSchema = z
  .strictObject({
    /** `_type` filter; empty = every type. */
    types: z.array(z.string().regex(/^[A-Z][A-Za-z]+$/)).default([]),
    /** Schedule of runs (EventBridge Scheduler rate / local interval). */
    scheduleMinutes: z.number().positive().default(15),
    /** StartExport HeartbeatSeconds. */
    heartbeatSeconds: z.number().int().positive().default(300),
    /** StartExport TimeoutSeconds, and check-export's max wait. */
    maxWaitSeconds: z
      .number()
      .int()
      .positive()
      .default(6 * 3600),
    /** State machine TimeoutSeconds. */
    executionTimeoutSeconds: z
      .number()
      .int()
      .positive()
      .default(24 * 3600),
    /** ProcessFiles MaxConcurrency. */
    mapMaxConcurrency: z.number().int().min(1).max(10_000).default(10),
    /** ProcessFiles ToleratedFailurePercentage. */
    toleratedFailurePercentage: z.number().min(0).max(100).default(0),
    /** Delay of the first status check, seconds: small, since later checks back off by `backoffMultiplier`. */
    initialCheckDelaySeconds: z.number().min(0).max(900).default(2),
    /** Longest delay between checks, Retry-After included (SQS allows at most 900); below heartbeatSeconds. */
    maxCheckDelaySeconds: z.number().min(0).max(900).default(120),
    /** Growth of the delay per check. */
    backoffMultiplier: z.number().min(1).max(10).default(1.5),
    /** Consecutive failed status requests tolerated before the task fails. */
    maxDescribeErrors: z.number().int().min(0).default(5),
    /** What COMPLETED_WITH_ERRORS means: fail the run, or land what was exported and record the errors. */
    completedWithErrors: z.enum(['fail', 'continue']).default('fail'),
    /** Publish `FhirResourceChanged` per landed resource. */
    emitEvents: z.boolean().default(false),
    /** Key prefix of manifests in the export bucket. */
    manifestPrefix: z.string().default('manifests/'),
    /** Where the local runtime exports from (see {@link exportSourceConfigSchema}). */
    source: exportSourceConfigSchema.default({ type: 'embedded' }),
    /**
     * Lock lease, seconds; default twice `heartbeatSeconds` (see {@link leaseSecondsOf}). A live owner is never taken
     * over whatever its lease; the lease only frees a lock whose owner's status cannot be read. Renewed locally while
     * the owning execution is alive.
     */
    leaseSeconds: z.number().int().positive().optional(),
  })
  .superRefine((config, ctx) => {
    // Every check heartbeats: checks must come more often than the heartbeat timeout.
    if (config.maxCheckDelaySeconds >= config.heartbeatSeconds) {
      ctx.addIssue({
        code: 'custom',
        path: ['maxCheckDelaySeconds'],
        message: 'must be shorter than heartbeatSeconds',
      });
    }
    if (config.initialCheckDelaySeconds >= config.heartbeatSeconds) {
      ctx.addIssue({
        code: 'custom',
        path: ['initialCheckDelaySeconds'],
        message: 'must be shorter than heartbeatSeconds',
      });
    }
  });

export type ExportWorkflowConfig = z.infer<typeof exportWorkflowConfigSchema>;
export type ExportSourceConfig = z.infer<typeof exportSourceConfigSchema>;
export type ExportWorkflowConfigInput = z.input<typeof exportWorkflowConfigSchema>;

/**
 * Parses export settings, filling defaults.
 *
 * @example
 * const settings = parseExportWorkflowConfig({ completedWithErrors: 'continue' });
 */
export function parseExportWorkflowConfig(input: ExportWorkflowConfigInput | undefined): ExportWorkflowConfig {
  return exportWorkflowConfigSchema.parse(input ?? {});
}

/**
 * The lock lease of the settings: `leaseSeconds`, or twice `heartbeatSeconds`.
 *
 * @example
 * leaseSecondsOf(parseExportWorkflowConfig({})) // 600
 */
export function leaseSecondsOf(config: Pick<ExportWorkflowConfig, 'leaseSeconds' | 'heartbeatSeconds'>): number {
  return config.leaseSeconds ?? 2 * config.heartbeatSeconds;
}
