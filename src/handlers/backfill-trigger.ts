/**
 * Scheduled scan of the change pipes' dead-letter queues: a trimmed-data failure starts a repair of its table (an
 * INCREMENTAL backfill over the lost batch's times, FULL when unknown); every other message stays in its DLQ
 * (src/backfill/dlq-trigger.ts). Logs tables, counts and execution names only.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { scanDeadLetterQueue, type DeadLetterScan, type WatchedDeadLetterQueue } from '../backfill/dlq-trigger.js';
import { backfillTriggerEnvSchema } from '../backfill/handler-env.js';
import { parseEnvironment } from '../fhir-export/export-task-env.js';

const logger = new Logger({ serviceName: 'tributary-backfill-trigger' });
const tracer = new Tracer({ serviceName: 'tributary-backfill-trigger' });

interface TriggerDeps {
  queues: WatchedDeadLetterQueue[];
  stateMachineArn: string;
  maxMessages: number;
  sqs: SQSClient;
  sfn: SFNClient;
}
let deps: TriggerDeps | undefined;

function depsFromEnv(environment: NodeJS.ProcessEnv): TriggerDeps {
  const env = parseEnvironment(backfillTriggerEnvSchema, environment);
  const region = env.AWS_REGION ? { region: env.AWS_REGION } : {};
  return {
    queues: JSON.parse(env.BACKFILL_DLQS) as WatchedDeadLetterQueue[],
    stateMachineArn: env.BACKFILL_STATE_MACHINE_ARN,
    maxMessages: Number(env.MAX_MESSAGES_PER_QUEUE),
    sqs: tracer.captureAWSv3Client(new SQSClient(region)),
    sfn: tracer.captureAWSv3Client(new SFNClient(region)),
  };
}

/**
 * The Lambda entry point (an EventBridge schedule invokes it; the event is ignored). A queue that fails to scan is
 * logged and the others are still scanned; the invocation then fails, so the schedule's retry and alarms see it.
 *
 * @example
 * const scans = await handler({});
 */
export async function handler(_event: unknown, context?: Context): Promise<DeadLetterScan[]> {
  if (context) logger.addContext(context);
  deps ??= depsFromEnv(process.env);
  const { sqs, sfn, stateMachineArn, maxMessages } = deps;
  const scans: DeadLetterScan[] = [];
  let failed: unknown;
  for (const queue of deps.queues) {
    try {
      const scan = await scanDeadLetterQueue({
        sqs,
        queue,
        maxMessages,
        startRepair: async (name, input) => {
          await sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
        },
      });
      scans.push(scan);
      if (scan.trimmed > 0) logger.info('repair started', { ...scan });
    } catch (error) {
      failed ??= error;
      logger.error('dead-letter scan failed', { table: queue.table, error: (error as Error).name });
    }
  }
  logger.info('dead-letter queues scanned', {
    queues: scans.length,
    seen: scans.reduce((n, s) => n + s.seen, 0),
    trimmed: scans.reduce((n, s) => n + s.trimmed, 0),
  });
  if (failed) throw failed;
  return scans;
}
