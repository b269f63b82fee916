import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledge } from '../nag-acknowledgements.js';
import type { HandlerCodeProvider, HandlerName } from './handler-code.js';

/** Props of {@link TributaryFunction}. */
export interface TributaryFunctionProps {
  /** Which handler (src/handlers/<name>.ts). */
  readonly handlerName: HandlerName;
  /** Where the bundle comes from. */
  readonly code: HandlerCodeProvider;
  /** Key for the log group and environment variables. */
  readonly encryptionKey: kms.IKey;
  /** Environment variables: ids, names and ARNs only, never PHI. Powertools variables are added. */
  readonly environment?: Record<string, string>;
  /** Default: 256 MiB. */
  readonly memorySize?: number;
  /** Default: 30 seconds. */
  readonly timeout?: Duration;
  /** Reserved concurrency. Default: 10 (caps blast radius; HIPAA LambdaConcurrency). */
  readonly reservedConcurrentExecutions?: number;
  /** Log retention. Default: 1 year. */
  readonly logRetention?: logs.RetentionDays;
  /** Default: `RemovalPolicy.RETAIN` for the log group. */
  readonly removalPolicy?: RemovalPolicy;
  /** Powertools service name. Default: `tributary-<handlerName>`. */
  readonly serviceName?: string;
  /** DLQ for asynchronous invocations. Default: none (the function is invoked synchronously or by an SQS event source with its own DLQ). */
  readonly deadLetterQueue?: sqs.IQueue;
}

/**
 * A Tributary Lambda: nodejs22.x on arm64, X-Ray active tracing, Powertools environment, a
 * KMS-encrypted log group it alone may write to, and an explicit role (no managed policies).
 *
 * @example
 * const ledger = new TributaryFunction(this, 'RunLedger', { handlerName: 'run-ledger', code, encryptionKey: key });
 */
export class TributaryFunction extends Construct {
  public readonly function: lambda.Function;
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;

  public constructor(scope: Construct, id: string, props: TributaryFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      encryptionKey: props.encryptionKey,
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Tributary ${props.handlerName} Lambda`,
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    this.function = new lambda.Function(this, 'Function', {
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code: props.code.code(props.handlerName),
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(30),
      tracing: lambda.Tracing.ACTIVE,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions ?? 10,
      environmentEncryption: props.encryptionKey,
      ...(props.deadLetterQueue ? { deadLetterQueue: props.deadLetterQueue } : {}),
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: props.serviceName ?? `tributary-${props.handlerName}`,
        POWERTOOLS_METRICS_NAMESPACE: 'Tributary',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        POWERTOOLS_LOGGER_LOG_EVENT: 'false',
        POWERTOOLS_TRACER_CAPTURE_RESPONSE: 'false',
        ...props.environment,
      },
    });
    // Lambda decrypts its environment with the key.
    this.role.addToPolicy(
      new iam.PolicyStatement({ actions: ['kms:Decrypt'], resources: [props.encryptionKey.keyArn] }),
    );
    acknowledge(this.role, {
      'AwsSolutions-IAM5[Resource::*]':
        'xray:PutTraceSegments and xray:PutTelemetryRecords (active tracing) support no resource-level permissions.',
    });
    if (!props.deadLetterQueue) {
      acknowledge(this.function, {
        'HIPAA.Security-LambdaDLQ':
          'Invoked synchronously (Firehose, Pipes, Step Functions) or by an SQS event source whose queue has a DLQ; failures surface to the caller, never dropped.',
      });
    }
  }

  /** Alarmable: errors of this function per minute. */
  public metricErrors(): cloudwatch.Metric {
    return this.function.metricErrors({ period: Duration.minutes(1), statistic: 'Sum' });
  }
}
