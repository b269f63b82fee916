import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { cancelJobThroughQueue } from './aws-adapters.js';
import { DynamoDbLedgerStore } from './dynamodb-ledger-store.js';
import { SfnExecutionStatus } from './execution-status.js';
import type { RunLedgerEnv } from './export-task-env.js';
import { RunLedger } from './run-ledger.js';
import type { ExportJobRef } from './types.js';

/** AWS clients the run-ledger Lambda uses (injectable; the handler passes Tracer-captured ones). */
export interface RunLedgerClients {
  dynamodb: DynamoDBClient;
  sfn: SFNClient;
  sqs: SQSClient;
}

/**
 * The run ledger of the AWS run-ledger Lambda: the ledger table, Step Functions for the lock owner's status, and, when
 * `RECHECK_QUEUE_URL` is set, a `cancelJob` that asks check-export through the recheck queue to cancel a failed (or
 * taken-over) run's job on the server (the ledger holds no FHIR credentials). A send that fails is logged (ids and
 * error name only) and ignored: the cancel is best effort.
 *
 * @example
 * const ledger = createAwsRunLedger(env, { dynamodb, sfn, sqs }, (message, fields) => logger.warn(message, fields));
 */
export function createAwsRunLedger(
  env: RunLedgerEnv,
  clients: RunLedgerClients,
  log?: (message: string, fields: Record<string, unknown>) => void,
): RunLedger {
  const sendCancel = env.RECHECK_QUEUE_URL ? cancelJobThroughQueue(clients.sqs, env.RECHECK_QUEUE_URL) : undefined;
  const cancelJob = sendCancel
    ? async (job: ExportJobRef) => {
        try {
          await sendCancel(job);
          log?.('export job cancel requested', { runId: job.runId, jobId: job.jobId });
        } catch (error) {
          log?.('export job cancel request failed', {
            runId: job.runId,
            jobId: job.jobId,
            error: (error as Error).name,
          });
          throw error;
        }
      }
    : undefined;
  return new RunLedger({
    store: new DynamoDbLedgerStore(clients.dynamodb, env.LEDGER_TABLE),
    executions: new SfnExecutionStatus(clients.sfn),
    leaseSeconds: env.LEASE_SECONDS,
    ...(cancelJob ? { cancelJob } : {}),
  });
}
