import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { assertAlternatives } from './shared/props.js';

/** Props of {@link OperationalAlarms}. Every optional prop documents its default. */
export interface OperationalAlarmsProps {
  /** Key the alarm topic is encrypted with (its policy must let cloudwatch.amazonaws.com use it; see createDataKey). */
  readonly encryptionKey: kms.IKey;
  /**
   * E-mail subscribed to the topic (the recipient must confirm).
   *
   * @default - no subscription
   */
  readonly email?: string;
  /**
   * Use this topic instead of a new one. An alternative to `topicProps`.
   *
   * @default - a new KMS-encrypted, TLS-only topic
   */
  readonly existingTopic?: sns.ITopic;
  /**
   * Overrides of the new topic's props. An alternative to `existingTopic`.
   *
   * @default - none
   */
  readonly topicProps?: Partial<sns.TopicProps>;
}

/**
 * One SNS topic (KMS-encrypted, TLS-only) and an alarm per metric: any non-zero value in a
 * 5-minute period alarms (DLQ depth, failed/timed-out executions, pipe and Firehose failures,
 * Lambda errors). Missing data is not breaching.
 *
 * @example
 * const alarms = new OperationalAlarms(this, 'Alarms', { encryptionKey: key, email: 'oncall@example.org' });
 * alarms.addMetrics('Visits', visits.alarmMetrics);
 */
export class OperationalAlarms extends Construct {
  public readonly topic: sns.ITopic;
  public readonly alarms: cloudwatch.Alarm[] = [];

  public constructor(scope: Construct, id: string, props: OperationalAlarmsProps) {
    super(scope, id);
    assertAlternatives('OperationalAlarms', props, ['existingTopic', 'topicProps']);
    this.topic =
      props.existingTopic ??
      new sns.Topic(this, 'Topic', {
        displayName: 'Tributary alarms',
        masterKey: props.encryptionKey,
        enforceSSL: true,
        ...props.topicProps,
      });
    if (props.email) this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));
  }

  /** Adds an alarm for each metric, named `<prefix>-<name>`. */
  public addMetrics(prefix: string, metrics: Record<string, cloudwatch.IMetric>): void {
    for (const [name, metric] of Object.entries(metrics)) {
      const alarm = new cloudwatch.Alarm(this, `${prefix}${name}`, {
        alarmDescription: `Tributary ${prefix} ${name} > 0`,
        metric,
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(new actions.SnsAction(this.topic));
      this.alarms.push(alarm);
    }
  }
}
