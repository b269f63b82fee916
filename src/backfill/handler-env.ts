/**
 * Environment of the `backfill` and `backfill-trigger` Lambdas (importable without side effects: the construct and
 * tests read the names). Names, ARNs and numbers only; never PHI.
 */
import * as z from '../validation/zod-mini.js';
import { backfillTablesSchema, type BackfillTableConfig } from './workflow-tasks.js';

const jsonOf = <T extends z.ZodMiniType>(schema: T) =>
  z.string().check(
    z.refine(
      (text) => {
        try {
          return schema.safeParse(JSON.parse(text)).success;
        } catch {
          return false;
        }
      },
      { message: 'must be JSON of the expected shape' },
    ),
  );

const positiveInt = (fallback: string) =>
  z._default(z.string().check(z.regex(/^[1-9]\d*$/, { message: 'must be a positive integer' })), fallback);

/** `backfill`: the workflow's Lambda steps. */
export const backfillEnvSchema = z.object({
  AWS_REGION: z.optional(z.string()),
  /** JSON array of the tables it may export ({@link BackfillTableConfig}). */
  BACKFILL_TABLES: jsonOf(backfillTablesSchema),
  EXPORT_BUCKET: z.string().check(z.minLength(1)),
  EXPORT_PREFIX: z._default(z.string(), 'exports/dynamodb/'),
  EXPORT_KMS_KEY_ID: z.string().check(z.minLength(1)),
  LAKE_BUCKET: z.string().check(z.minLength(1)),
  LAKE_KMS_KEY_ID: z.optional(z.string()),
  POLL_SECONDS: positiveInt('60'),
  MAX_POLLS: positiveInt('360'),
  MAX_BUFFER_MIB: positiveInt('8'),
});

/** `backfill-trigger`: the scheduled scan of the pipes' DLQs. */
export const backfillTriggerEnvSchema = z.object({
  AWS_REGION: z.optional(z.string()),
  /** JSON array of `{queueUrl, table}`. */
  BACKFILL_DLQS: jsonOf(z.array(z.object({ queueUrl: z.string(), table: z.string() }))),
  BACKFILL_STATE_MACHINE_ARN: z.string().check(z.minLength(1)),
  MAX_MESSAGES_PER_QUEUE: positiveInt('1000'),
});

/** The tables of a parsed `BACKFILL_TABLES`. */
export function backfillTablesOf(text: string): BackfillTableConfig[] {
  return backfillTablesSchema.parse(JSON.parse(text)) as BackfillTableConfig[];
}
