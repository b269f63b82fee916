import { z } from 'zod';
import { InvalidWorkflowInputError } from './errors.js';
import type { ProcessFileInput } from './types.js';

/** Fields of the exported file the item names. */
const fileItem = {
  bucket: z.string().min(1),
  key: z.string().min(1),
  type: z.string().min(1),
  kind: z.enum(['output', 'deleted', 'error']),
  count: z.number().optional(),
};
/** Fields of the run the file belongs to. */
const runFields = {
  runId: z.string().min(1),
  jobId: z.string().min(1),
  transactionTime: z.string().min(1),
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
