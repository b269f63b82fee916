import { z } from 'zod';
import { eventTimeSchema } from '../config/schema.js';
import { ConfigError } from '../config/errors.js';
import { DEFAULT_PARTITION_BY } from './partitions.js';
import type { ChangeStreamTableConfig } from './process-batch.js';

const envSchema = z.object({
  TRIBUTARY_TABLE: z.string().regex(/^[a-zA-Z0-9_.-]{3,255}$/, 'a DynamoDB table name'),
  TRIBUTARY_PARTITION_BY: z
    .string()
    .optional()
    .transform((text) =>
      text === undefined || text.trim() === '' ? [...DEFAULT_PARTITION_BY] : text.split(',').map((part) => part.trim()),
    )
    .pipe(z.array(z.string().min(1, 'empty partition column')).min(1)),
  TRIBUTARY_EVENT_TIME: z
    .string()
    .optional()
    .transform((text, ctx) => {
      if (text === undefined || text.trim() === '') return undefined;
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be JSON such as {"attribute":"createdAtTime","unit":"ms"}' });
        return z.NEVER;
      }
    })
    .pipe(eventTimeSchema.optional()),
  TRIBUTARY_TTL_ATTRIBUTE: z.string().min(1).optional(),
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
