import { DescribeExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';

/**
 * Status of a workflow execution; `UNKNOWN` when the execution does not exist; `OWNER_DEAD` (local runtime only) when
 * the executor store says RUNNING but the process that ran it is gone.
 */
export type ExecutionState =
  'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE' | 'UNKNOWN' | 'OWNER_DEAD';

/**
 * Port: asks whether the execution owning the lock is still alive (dead-owner takeover).
 *
 * @example
 * const state = await executions.statusOf(lock.owner);
 */
export interface ExecutionStatusPort {
  /** The execution's status; throws when it cannot be read (then only the lock's lease frees the lock). */
  statusOf(executionArn: string): Promise<ExecutionState>;
  /** A readable owner of the execution for messages (locally `sync (pid 7 on h)`); optional. */
  describeOwner?(executionArn: string): Promise<string | undefined>;
}

/**
 * {@link ExecutionStatusPort} over Step Functions `DescribeExecution`.
 *
 * @example
 * const executions = new SfnExecutionStatus(new SFNClient({}));
 */
export class SfnExecutionStatus implements ExecutionStatusPort {
  public constructor(private readonly client: SFNClient) {}
  public async statusOf(executionArn: string): Promise<ExecutionState> {
    try {
      const out = await this.client.send(new DescribeExecutionCommand({ executionArn }));
      return (out.status ?? 'UNKNOWN') as ExecutionState;
    } catch (error) {
      if ((error as { name?: string }).name === 'ExecutionDoesNotExist') return 'UNKNOWN';
      throw error;
    }
  }
}
