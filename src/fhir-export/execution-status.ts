import { DescribeExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';

/** Status of a workflow execution; `UNKNOWN` when the execution does not exist. */
export type ExecutionState =
  'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE' | 'UNKNOWN';

/**
 * Port: asks whether the execution owning the lock is still alive (dead-owner takeover).
 *
 * @example
 * const state = await executions.statusOf(lock.owner);
 */
export interface ExecutionStatusPort {
  statusOf(executionArn: string): Promise<ExecutionState>;
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
