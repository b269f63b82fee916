import { ConfigError } from '../config/errors.js';
import * as z from '../validation/zod-mini.js';
import { DEFAULT_PARTITION_BY } from './partitions.js';
import type { ChangeStreamTableConfig } from './process-batch.js';

/**
 * The config's `pipe.eventTime` (`eventTimeSchema` in src/config/schema.ts) in `zod/mini`, so the
 * handler bundle does not carry classic zod; same rules and messages (a test keeps them in step).
 */
export const eventTimeEnvSchema = z.strictObject({
  attribute: z.string().check(z.minLength(1)),
  unit: z._default(z.enum(['ms', 's', 'iso']), 'ms'),
});

const envSchema = z.object({
  TRIBUTARY_TABLE: z.string().check(z.regex(/^[a-zA-Z0-9_.-]{3,255}$/, 'a DynamoDB table name')),
  TRIBUTARY_PARTITION_BY: z.pipe(
    z.pipe(
      z.optional(z.string()),
      z.transform((text: string | undefined) =>
        text === undefined || text.trim() === ''
          ? [...DEFAULT_PARTITION_BY]
          : text.split(',').map((part) => part.trim()),
      ),
    ),
    z.array(z.string().check(z.minLength(1, 'empty partition column'))).check(z.minLength(1)),
  ),
  TRIBUTARY_EVENT_TIME: z.pipe(
    z.pipe(
      z.optional(z.string()),
      z.transform((text: string | undefined, ctx) => {
        if (text === undefined || text.trim() === '') return undefined;
        try {
          return JSON.parse(text) as unknown;
        } catch {
          ctx.issues.push({
            code: 'custom',
            message: 'must be JSON such as {"attribute":"createdAtTime","unit":"ms"}',
            input: text,
          });
          return z.NEVER;
        }
      }),
    ),
    z.optional(eventTimeEnvSchema),
  ),
  TRIBUTARY_TTL_ATTRIBUTE: z.optional(z.string().check(z.minLength(1))),
});

/**
 * Reads the Firehose transformation's table config from the environment:
 * `TRIBUTARY_TABLE`, `TRIBUTARY_PARTITION_BY` (comma list, default `year,month,day`),
 * `TRIBUTARY_EVENT_TIME` (optional JSON `{attribute, unit}`). Throws {@link ConfigError} naming the variable.
 *
 * @example
 * loadFirehoseTransformConfig({ TRIBUTARY_TABLE: 'Visits', TRIBUTARY_PARTITION_BY: 'siteId,year,month,day,minute' })
 */
export function loadFirehoseTransformConfig(env: Record<string, string | undefined>): ChangeStreamTableConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.map(String).join('.') ?? '';
    throw new ConfigError(`${field}: ${issue?.message ?? 'invalid'}`, field);
  }
  const { TRIBUTARY_TABLE, TRIBUTARY_PARTITION_BY, TRIBUTARY_EVENT_TIME, TRIBUTARY_TTL_ATTRIBUTE } = parsed.data;
  return {
    name: TRIBUTARY_TABLE,
    ttlAttribute: TRIBUTARY_TTL_ATTRIBUTE,
    pipe: { partitionBy: TRIBUTARY_PARTITION_BY, eventTime: TRIBUTARY_EVENT_TIME },
  };
}
