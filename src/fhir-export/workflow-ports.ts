/**
 * Port: Step Functions task-token callbacks (SendTaskSuccess/Failure/Heartbeat in AWS; the local executor locally).
 * Implementations throw an error named `TaskTimedOut` or `TaskDoesNotExist` when the task is already closed.
 *
 * @example
 * await callbacks.failure(token, 'Export.JobFailed', 'job j1 FAILED');
 */
export interface TaskCallbacks {
  success(taskToken: string, output: unknown): Promise<void>;
  failure(taskToken: string, error: string, cause: string): Promise<void>;
  heartbeat(taskToken: string): Promise<void>;
}

/**
 * Port: a queue that delivers a message after a delay (SQS `DelaySeconds`, or the local durable queue).
 *
 * @example
 * await recheckQueue.send({ taskToken, runId, jobId, attempt: 1, firstCheckAt }, 30);
 */
export interface DelayQueue<TMessage> {
  send(message: TMessage, delaySeconds: number): Promise<void>;
}

/** True when an error says the task token is no longer usable (the execution moved on). */
export function isClosedTaskError(error: unknown): boolean {
  const name = (error as { name?: string } | undefined)?.name;
  return name === 'TaskTimedOut' || name === 'TaskDoesNotExist' || name === 'InvalidToken';
}
