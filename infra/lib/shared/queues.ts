import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledge } from '../nag-acknowledgements.js';

/** Props of {@link QueueWithDlq}. Every optional prop documents its default. */
export interface QueueWithDlqProps {
  /** Customer-managed key both queues are encrypted with. */
  readonly encryptionKey: kms.IKey;
  /**
   * Visibility timeout; must exceed the consumer Lambda's timeout.
   *
   * @default Duration.seconds(60)
   */
  readonly visibilityTimeout?: Duration;
  /**
   * Receives before a message moves to the DLQ.
   *
   * @default 5
   */
  readonly maxReceiveCount?: number;
  /**
   * Removal policy of both queues.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * An SSE-KMS, TLS-only SQS queue with a dead-letter queue (14-day retention) that is itself
 * SSE-KMS and TLS-only.
 *
 * @example
 * const { queue, deadLetterQueue } = new QueueWithDlq(this, 'StartQueue', { encryptionKey: key });
 */
export class QueueWithDlq extends Construct {
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;

  public constructor(scope: Construct, id: string, props: QueueWithDlqProps) {
    super(scope, id);
    const common = {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      dataKeyReuse: Duration.minutes(5),
      enforceSSL: true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    };
    this.deadLetterQueue = new sqs.Queue(this, 'Dlq', { ...common, retentionPeriod: Duration.days(14) });
    acknowledge(this.deadLetterQueue, {
      'AwsSolutions-SQS3': 'This queue is a dead-letter queue; it has no DLQ of its own.',
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      ...common,
      visibilityTimeout: props.visibilityTimeout ?? Duration.seconds(60),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? 5 },
    });
  }
}

/**
 * A standalone dead-letter queue (for pipes), SSE-KMS and TLS-only, 14-day retention.
 *
 * @example
 * const dlq = createDeadLetterQueue(this, 'PipeDlq', key);
 */
export function createDeadLetterQueue(
  scope: Construct,
  id: string,
  encryptionKey: kms.IKey,
  removalPolicy = RemovalPolicy.RETAIN,
): sqs.Queue {
  const queue = new sqs.Queue(scope, id, {
    encryption: sqs.QueueEncryption.KMS,
    encryptionMasterKey: encryptionKey,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
    removalPolicy,
  });
  acknowledge(queue, { 'AwsSolutions-SQS3': 'This queue is a dead-letter queue; it has no DLQ of its own.' });
  return queue;
}
