import * as z from '../validation/zod-mini.js';
import { systemClock, type Clock } from '../ports/clock.js';
import type { ObjectStore } from '../ports/object-store.js';
import { ExportErrorNames, InvalidWorkflowInputError, TransientExportError, causeOf, errorNameOf } from './errors.js';
import type {
  CancelExportMessage,
  CheckExportMessage,
  ExportErrors,
  ExportJobRef,
  ExportManifest,
  ExportTaskOutput,
  FhirExportSource,
  ManifestItem,
  StartExportMessage,
} from './types.js';
import { isClosedTaskError, type DelayQueue, type TaskCallbacks } from './workflow-ports.js';

/** Validates a start-export message. */
export const startExportMessageSchema = z.object({
  taskToken: z.string().check(z.minLength(1)),
  runId: z.string().check(z.minLength(1)),
  since: z.nullable(z.string()),
  executionArn: z.string().check(z.minLength(1)),
});

/** Validates a recheck message. */
export const checkExportMessageSchema = z.object({
  taskToken: z.string().check(z.minLength(1)),
  runId: z.string().check(z.minLength(1)),
  jobId: z.string().check(z.minLength(1)),
  statusUrl: z.optional(z.string()),
  attempt: z.number().check(z.int(), z.minimum(0)),
  firstCheckAt: z.string(),
  describeErrors: z.optional(z.number().check(z.int(), z.minimum(0))),
});

/** Validates a cancel message (the run ledger's, on the recheck queue; see {@link CancelExportMessage}). */
export const cancelExportMessageSchema = z.object({
  action: z.literal('cancel'),
  runId: z.string().check(z.minLength(1)),
  jobId: z.string().check(z.minLength(1)),
  statusUrl: z.optional(z.string().check(z.minLength(1))),
});

/** Polling policy of the check step. */
export interface CheckPolicy {
  initialCheckDelaySeconds: number;
  maxCheckDelaySeconds: number;
  backoffMultiplier: number;
  maxWaitSeconds: number;
  maxDescribeErrors: number;
  completedWithErrors: 'fail' | 'continue';
  /** Bucket the manifest is written to (the export bucket). */
  manifestBucket: string;
  manifestPrefix: string;
}

/** Dependencies of the start and check steps. */
export interface ExportStepDeps {
  source: FhirExportSource;
  callbacks: TaskCallbacks;
  recheckQueue: DelayQueue<CheckExportMessage>;
  /** Store of the manifest bucket. */
  manifestStore: ObjectStore;
  policy: CheckPolicy;
  types?: readonly string[];
  clock?: Clock;
  /** Logs ids and reasons (never PHI). */
  log?: (message: string, fields: Record<string, unknown>) => void;
}

/** What a step did (for logs, metrics and tests). */
export type StepOutcome =
  | { action: 'requeued'; delaySeconds: number; status?: string }
  | { action: 'succeeded'; output: ExportTaskOutput }
  | { action: 'failed'; error: string; cause: string }
  | { action: 'cancelled'; runId: string; jobId: string }
  | { action: 'dropped'; reason: string };

/**
 * The start-export step: starts the export (idempotent on runId) and queues the first status check.
 * Every error ends in SendTaskFailure with an error name and cause; it only throws if that call itself fails
 * (so the queue redelivers).
 *
 * @example
 * await startExportStep(JSON.parse(record.body), deps);
 */
export async function startExportStep(rawMessage: unknown, deps: ExportStepDeps): Promise<StepOutcome> {
  const parsed = startExportMessageSchema.safeParse(rawMessage);
  if (!parsed.success) return failWithoutToken(rawMessage, parsed.error, deps);
  const message: StartExportMessage = parsed.data;
  const clock = deps.clock ?? systemClock;
  let job: ExportJobRef | undefined;
  try {
    job = await deps.source.startExport({
      runId: message.runId,
      since: message.since,
      ...(deps.types?.length ? { types: deps.types } : {}),
    });
    const next: CheckExportMessage = {
      taskToken: message.taskToken,
      runId: message.runId,
      jobId: job.jobId,
      ...(job.statusUrl ? { statusUrl: job.statusUrl } : {}),
      attempt: 0,
      firstCheckAt: clock.now().toISOString(),
    };
    await deps.recheckQueue.send(next, deps.policy.initialCheckDelaySeconds);
    deps.log?.('export started', { runId: message.runId, jobId: job.jobId, since: message.since });
    return { action: 'requeued', delaySeconds: deps.policy.initialCheckDelaySeconds };
  } catch (error) {
    const errorName = error instanceof TransientExportError ? ExportErrorNames.StartFailed : errorNameOf(error);
    return sendFailure(
      message.taskToken,
      errorName === 'Error' ? ExportErrorNames.StartFailed : errorName,
      causeOf(error),
      deps,
      message.runId,
      job,
    );
  }
}

/**
 * The check-export step: describes the job and acts on its status (heartbeat + requeue with backoff honouring
 * Retry-After; COMPLETED → manifest + SendTaskSuccess; COMPLETED_WITH_ERRORS → policy; FAILED/CANCEL_* → SendTaskFailure;
 * past max wait → `Export.MaxWaitExceeded`). A `{action:'cancel'}` message (the run ledger's) goes to
 * {@link cancelExportStep}.
 *
 * @example
 * await checkExportStep(JSON.parse(record.body), deps);
 */
export async function checkExportStep(rawMessage: unknown, deps: ExportStepDeps): Promise<StepOutcome> {
  if ((rawMessage as { action?: unknown } | null | undefined)?.action === 'cancel')
    return cancelExportStep(rawMessage, deps);
  const parsed = checkExportMessageSchema.safeParse(rawMessage);
  if (!parsed.success) return failWithoutToken(rawMessage, parsed.error, deps);
  const message: CheckExportMessage = parsed.data;
  const clock = deps.clock ?? systemClock;
  const policy = deps.policy;
  const job = {
    jobId: message.jobId,
    runId: message.runId,
    ...(message.statusUrl ? { statusUrl: message.statusUrl } : {}),
  };
  const waitedSeconds = (clock.now().getTime() - Date.parse(message.firstCheckAt)) / 1000;

  let description;
  try {
    description = await deps.source.describeExport(job);
  } catch (error) {
    const failures = (message.describeErrors ?? 0) + 1;
    if (
      error instanceof TransientExportError &&
      failures <= policy.maxDescribeErrors &&
      waitedSeconds < policy.maxWaitSeconds
    ) {
      // The server's Retry-After on an error answer (429/503) is honoured like on a 202.
      return requeue({ ...message, describeErrors: failures }, error.retryAfterSeconds, deps, undefined);
    }
    return sendFailure(message.taskToken, errorNameOf(error), causeOf(error), deps, message.runId, job);
  }

  try {
    switch (description.status) {
      case 'SUBMITTED':
      case 'QUEUED':
      case 'IN_PROGRESS': {
        if (waitedSeconds >= policy.maxWaitSeconds) {
          await deps.source.cancelExport?.(job).catch(() => undefined);
          return sendFailure(
            message.taskToken,
            ExportErrorNames.MaxWaitExceeded,
            `export job ${message.jobId} still ${description.status} after ${Math.round(waitedSeconds)} s`,
            deps,
            message.runId,
          );
        }
        try {
          await deps.callbacks.heartbeat(message.taskToken);
        } catch (error) {
          if (isClosedTaskError(error)) {
            await deps.source.cancelExport?.(job).catch(() => undefined);
            return { action: 'dropped', reason: `task closed (${(error as Error).name})` };
          }
          throw error;
        }
        return requeue({ ...message, describeErrors: 0 }, description.retryAfterSeconds, deps, description.status);
      }
      case 'COMPLETED':
      case 'COMPLETED_WITH_ERRORS': {
        const manifest = description.manifest;
        if (!manifest) {
          return sendFailure(
            message.taskToken,
            ExportErrorNames.ManifestInvalid,
            `job ${message.jobId} completed without a manifest`,
            deps,
            message.runId,
            job,
          );
        }
        const exportErrors = summariseErrors(manifest, deps.source);
        const withErrors = description.status === 'COMPLETED_WITH_ERRORS' || manifest.error.length > 0;
        if (withErrors && policy.completedWithErrors === 'fail') {
          return sendFailure(
            message.taskToken,
            ExportErrorNames.CompletedWithErrors,
            `export job ${message.jobId} completed with ${exportErrors.length} error file(s)${errorCount(exportErrors) ? ` (${errorCount(exportErrors)} errors)` : ''}`,
            deps,
            message.runId,
            job,
          );
        }
        const items = manifestItems(manifest, deps.source);
        const manifestKey = `${policy.manifestPrefix}${safeSegment(message.runId)}/${safeSegment(message.jobId)}/manifest.json`;
        await deps.manifestStore.put(manifestKey, JSON.stringify(items), { contentType: 'application/json' });
        const output: ExportTaskOutput = {
          bucket: policy.manifestBucket,
          manifestKey,
          transactionTime: manifest.transactionTime,
          jobId: message.jobId,
          exportErrors,
        };
        try {
          await deps.callbacks.success(message.taskToken, output);
        } catch (error) {
          if (isClosedTaskError(error)) return { action: 'dropped', reason: `task closed (${(error as Error).name})` };
          throw error;
        }
        deps.log?.('export completed', { runId: message.runId, jobId: message.jobId, files: items.length });
        return { action: 'succeeded', output };
      }
      case 'FAILED':
        return sendFailure(
          message.taskToken,
          ExportErrorNames.JobFailed,
          `export job ${message.jobId} FAILED${description.message ? `: ${description.message}` : ''}`,
          deps,
          message.runId,
        );
      default:
        return sendFailure(
          message.taskToken,
          ExportErrorNames.JobCancelled,
          `export job ${message.jobId} ${description.status}${description.message ? `: ${description.message}` : ''}`,
          deps,
          message.runId,
        );
    }
  } catch (error) {
    if (isClosedTaskError(error)) return { action: 'dropped', reason: `task closed (${(error as Error).name})` };
    return sendFailure(
      message.taskToken,
      errorNameOf(error) === 'Error' ? ExportErrorNames.StatusUnavailable : errorNameOf(error),
      causeOf(error),
      deps,
      message.runId,
      job,
    );
  }
}

/**
 * The cancel step (check-export, on a `{action:'cancel'}` message of the recheck queue): cancels a failed run's job on
 * the server, best effort, for the AWS run ledger, which holds no FHIR credentials. It has no task token and never
 * calls the task callbacks. It never throws: an invalid message, a source that cannot cancel, or a failed cancel is
 * dropped with a reason (logged with ids and the error name only), so the message is not redelivered.
 *
 * @example
 * await cancelExportStep({ action: 'cancel', runId: 'run-1', jobId: 'j1' }, deps); // { action: 'cancelled', … }
 */
export async function cancelExportStep(rawMessage: unknown, deps: ExportStepDeps): Promise<StepOutcome> {
  const parsed = cancelExportMessageSchema.safeParse(rawMessage);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const reason = `invalid cancel message: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'unknown'}`;
    deps.log?.('export job cancel dropped', { reason });
    return { action: 'dropped', reason };
  }
  const message: CancelExportMessage = parsed.data;
  const ids = { runId: message.runId, jobId: message.jobId };
  if (!deps.source.cancelExport) return { action: 'dropped', reason: `source cannot cancel job ${message.jobId}` };
  try {
    await deps.source.cancelExport({ ...ids, ...(message.statusUrl ? { statusUrl: message.statusUrl } : {}) });
  } catch (error) {
    deps.log?.('export job cancel failed', { ...ids, error: errorNameOf(error) });
    return { action: 'dropped', reason: `cancel of job ${message.jobId} failed (${errorNameOf(error)})` };
  }
  deps.log?.('export job cancelled', ids);
  return { action: 'cancelled', ...ids };
}

/**
 * Delay before the next check: `initial × multiplier^attempt`, at least Retry-After, and never more than
 * `maxCheckDelaySeconds` (which stays below the task's HeartbeatSeconds, since each check heartbeats) nor 900 s (SQS).
 *
 * @example
 * recheckDelaySeconds(2, undefined, { initialCheckDelaySeconds: 30, backoffMultiplier: 2, maxCheckDelaySeconds: 300 }) // 120
 */
export function recheckDelaySeconds(
  attempt: number,
  retryAfterSeconds: number | undefined,
  policy: Pick<CheckPolicy, 'initialCheckDelaySeconds' | 'backoffMultiplier' | 'maxCheckDelaySeconds'>,
): number {
  const backoff = policy.initialCheckDelaySeconds * policy.backoffMultiplier ** attempt;
  return Math.min(900, policy.maxCheckDelaySeconds, Math.max(backoff, retryAfterSeconds ?? 0));
}

/**
 * The manifest array the Distributed Map reads: output files, deleted-Bundle files and error files, located in their
 * bucket.
 *
 * @example
 * manifestItems(manifest, source) // [{ bucket, key, type: 'Patient', kind: 'output', count: 3 }]
 */
export function manifestItems(manifest: ExportManifest, source: Pick<FhirExportSource, 'locate'>): ManifestItem[] {
  const items: ManifestItem[] = [];
  for (const [kind, files] of [
    ['output', manifest.output],
    ['deleted', manifest.deleted],
  ] as const) {
    for (const file of files) {
      const { bucket, key } = source.locate(file.url);
      items.push({ bucket, key, type: file.type, kind, ...(file.count !== undefined ? { count: file.count } : {}) });
    }
  }
  // Error files are landed too (under `_errors/fhir-export/`); one that cannot be located stays on the run record only.
  for (const file of manifest.error) {
    let location;
    try {
      location = source.locate(file.url);
    } catch {
      continue;
    }
    items.push({
      ...location,
      type: file.type,
      kind: 'error',
      ...(file.count !== undefined ? { count: file.count } : {}),
    });
  }
  return items;
}

function summariseErrors(manifest: ExportManifest, source: Pick<FhirExportSource, 'locate'>): ExportErrors {
  return manifest.error.map((file) => {
    const count = file.count !== undefined ? { count: file.count } : {};
    try {
      return { type: file.type, ...source.locate(file.url), ...count };
    } catch {
      return { type: file.type, url: file.url.split('?')[0] ?? '', ...count };
    }
  });
}

async function requeue(
  message: CheckExportMessage,
  retryAfter: number | undefined,
  deps: ExportStepDeps,
  status: string | undefined,
): Promise<StepOutcome> {
  const delaySeconds = recheckDelaySeconds(message.attempt, retryAfter, deps.policy);
  await deps.recheckQueue.send({ ...message, attempt: message.attempt + 1 }, delaySeconds);
  return { action: 'requeued', delaySeconds, ...(status ? { status } : {}) };
}

/** Fails the task; when `job` is given, first cancels it on the server (best effort) so a failed run leaves no job. */
async function sendFailure(
  taskToken: string,
  error: string,
  cause: string,
  deps: ExportStepDeps,
  runId: string,
  job?: ExportJobRef,
): Promise<StepOutcome> {
  deps.log?.('export task failed', { runId, error });
  if (job && deps.source.cancelExport) {
    await deps.source.cancelExport(job).catch((cancelError: unknown) => {
      deps.log?.('export job cancel failed', { runId, jobId: job.jobId, reason: causeOf(cancelError) });
    });
  }
  try {
    await deps.callbacks.failure(taskToken, error, cause);
  } catch (callbackError) {
    if (isClosedTaskError(callbackError))
      return { action: 'dropped', reason: `task closed (${(callbackError as Error).name})` };
    throw callbackError;
  }
  return { action: 'failed', error, cause };
}

async function failWithoutToken(raw: unknown, error: z.core.$ZodError, deps: ExportStepDeps): Promise<StepOutcome> {
  const issue = error.issues[0];
  const reason = `invalid message: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'unknown'}`;
  const token = (raw as { taskToken?: unknown } | undefined)?.taskToken;
  if (typeof token === 'string' && token) {
    const runId = String((raw as { runId?: unknown }).runId ?? '');
    return sendFailure(token, ExportErrorNames.InvalidMessage, reason, deps, runId);
  }
  // No token: nobody to tell; the message is unusable. Throw so it lands in the DLQ for inspection.
  throw new InvalidWorkflowInputError(reason);
}

function errorCount(errors: ExportErrors): number {
  return errors.reduce((sum, file) => sum + (file.count ?? 0), 0);
}

function safeSegment(value: string): string {
  return value.replace(/[^A-Za-z0-9_.-]/g, '_');
}
