/**
 * The input of the backfill/repair state machine (`src/backfill/workflow.asl.json`), on AWS and locally:
 *
 * ```json
 * { "table": "visits", "mode": "FULL" }
 * { "table": "visits", "mode": "INCREMENTAL", "exportFromTime": "2024-03-01T10:00:00Z", "exportToTime": "2024-03-01T12:00:00Z" }
 * { "table": "visits", "mode": "FULL", "exportArn": "arn:aws:dynamodb:…:table/visits/export/0170…" }
 * ```
 *
 * `table` is the config's table name. `exportToTime` defaults to the latest restorable time. `exportArn` re-lands an
 * export that already exists (no new export is started): landing is idempotent, so this repairs a failed landing.
 */
import * as z from '../validation/zod-mini.js';

const isoTime = z
  .string()
  .check(z.refine((value) => !Number.isNaN(Date.parse(value)), { message: 'must be an ISO-8601 time' }));

/** Schema of {@link BackfillInput}. */
export const backfillInputSchema = z.object({
  table: z.string().check(z.minLength(1)),
  mode: z.enum(['FULL', 'INCREMENTAL']),
  exportFromTime: z.optional(isoTime),
  exportToTime: z.optional(isoTime),
  exportArn: z.optional(z.string().check(z.regex(/^arn:aws[a-z-]*:dynamodb:[^:]*:\d*:table\/[^/]+\/export\/[^/]+$/))),
});

/** The state machine's input. */
export type BackfillInput = z.infer<typeof backfillInputSchema>;

/** The input is not what the backfill workflow accepts; the message names the field, never a value. */
export class BackfillInputError extends Error {
  public override readonly name = 'Backfill.InvalidInput';
}

/**
 * Validates the state machine's input.
 *
 * @example
 * parseBackfillInput({ table: 'visits', mode: 'FULL' }) // { table: 'visits', mode: 'FULL' }
 */
export function parseBackfillInput(input: unknown): BackfillInput {
  const parsed = backfillInputSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new BackfillInputError(`backfill input ${issue?.path.join('.') || '(root)'}: ${issue?.message}`);
  }
  if (parsed.data.mode === 'INCREMENTAL' && parsed.data.exportFromTime === undefined && !parsed.data.exportArn)
    throw new BackfillInputError('backfill input exportFromTime: required when mode is INCREMENTAL');
  return parsed.data;
}
