import {
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { CancelExportMessage, ExportJobRef } from './types.js';
import type { DelayQueue, TaskCallbacks } from './workflow-ports.js';

/**
 * {@link TaskCallbacks} over Step Functions SendTaskSuccess/Failure/Heartbeat.
 *
 * @example
 * const callbacks = new SfnTaskCallbacks(new SFNClient({}));
 */
export class SfnTaskCallbacks implements TaskCallbacks {
  public constructor(private readonly client: SFNClient) {}
  public async success(taskToken: string, output: unknown): Promise<void> {
    await this.client.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) }));
  }
  public async failure(taskToken: string, error: string, cause: string): Promise<void> {
    // API limits: error 256 characters, cause 32 768.
    await this.client.send(
      new SendTaskFailureCommand({ taskToken, error: error.slice(0, 256), cause: cause.slice(0, 32_768) }),
    );
  }
  public async heartbeat(taskToken: string): Promise<void> {
    await this.client.send(new SendTaskHeartbeatCommand({ taskToken }));
  }
}

/**
 * {@link DelayQueue} over an SQS queue (`DelaySeconds`, at most 900).
 *
 * @example
 * const recheck = new SqsDelayQueue(new SQSClient({}), process.env.RECHECK_QUEUE_URL!);
 */
export class SqsDelayQueue<TMessage> implements DelayQueue<TMessage> {
  public constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}
  public async send(message: TMessage, delaySeconds: number): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(message),
        DelaySeconds: Math.max(0, Math.min(900, Math.round(delaySeconds))),
      }),
    );
  }
}

/**
 * The AWS run ledger's `cancelJob`: sends `{action:'cancel', runId, jobId, statusUrl?}` to the recheck queue (no
 * delay), where check-export, which holds the FHIR credentials the ledger lacks, cancels the job (best effort).
 *
 * @example
 * const ledger = new RunLedger({ store, executions, cancelJob: cancelJobThroughQueue(new SQSClient({}), recheckQueueUrl) });
 */
export function cancelJobThroughQueue(client: SQSClient, queueUrl: string): (job: ExportJobRef) => Promise<void> {
  const queue = new SqsDelayQueue<CancelExportMessage>(client, queueUrl);
  return (job) =>
    queue.send(
      {
        action: 'cancel',
        // The ledger's job records always name their run.
        runId: job.runId ?? 'unknown',
        jobId: job.jobId,
        ...(job.statusUrl ? { statusUrl: job.statusUrl } : {}),
      },
      0,
    );
}
