import * as z from '../validation/zod-mini.js';
import { InvalidWorkflowInputError } from './errors.js';
import type { ProcessFileInput } from './types.js';

/** Fields of the exported file the item names. */
const fileItem = {
  bucket: z.string().check(z.minLength(1)),
  key: z.string().check(z.minLength(1)),
  type: z.string().check(z.minLength(1)),
  kind: z.enum(['output', 'deleted', 'error']),
  count: z.optional(z.number()),
};
/** Fields of the run the file belongs to. */
const runFields = {
  runId: z.string().check(z.minLength(1)),
  jobId: z.string().check(z.minLength(1)),
  transactionTime: z.string().check(z.minLength(1)),
};

/** Input of process-file as the Distributed Map's ItemSelector builds it: `{item, runId, jobId, transactionTime}`, or flat. */
export const processFileInputSchema = z.union([
  z.object({ item: z.object(fileItem), ...runFields }),
  z.object({ ...fileItem, ...runFields }),
]);

/**
 * Validates and flattens a process-file input.
 *
 * @example
 * parseProcessFileInput({ item: { bucket, key, type: 'Patient', kind: 'output' }, runId, jobId, transactionTime })
 */
export function parseProcessFileInput(raw: unknown): ProcessFileInput {
  const parsed = processFileInputSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidWorkflowInputError(
      `process-file input: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`,
    );
  }
  const data = parsed.data;
  if ('item' in data) {
    return { ...data.item, runId: data.runId, jobId: data.jobId, transactionTime: data.transactionTime };
  }
  return data;
}
