import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledge, LAMBDA_CONCURRENCY_REASON } from '../nag-acknowledgements.js';
import type { HandlerCodeProvider, HandlerName } from './handler-code.js';

/** Props of {@link TributaryFunction}. Every optional prop documents its default. */
export interface TributaryFunctionProps {
  /** Which handler (src/handlers/<name>.ts). */
  readonly handlerName: HandlerName;
  /** Where the bundle comes from. */
  readonly code: HandlerCodeProvider;
  /** Key for the log group and environment variables. */
  readonly encryptionKey: kms.IKey;
  /**
   * Environment variables: ids, names and ARNs only, never PHI. Powertools variables are added.
   *
   * @default - only the Powertools variables
   */
  readonly environment?: Record<string, string>;
  /**
   * Memory, MiB.
   *
   * @default 256
   */
  readonly memorySize?: number;
  /**
   * Timeout.
   *
   * @default Duration.seconds(30)
   */
  readonly timeout?: Duration;
  /**
   * Reserved concurrency. Opt-in: every reserved unit comes out of the account's unreserved pool,
   * which must keep 100, so reserving fails deploys on accounts with low Lambda quotas.
   *
   * @default - none: the function uses the account's unreserved concurrency (HIPAA LambdaConcurrency acknowledged)
   */
  readonly reservedConcurrentExecutions?: number;
  /**
   * Log retention.
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Removal policy of the log group.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Powertools service name.
   *
   * @default 'tributary-<handlerName>'
   */
  readonly serviceName?: string;
  /**
   * DLQ for asynchronous invocations.
   *
   * @default - none (the function is invoked synchronously or by an SQS event source with its own DLQ)
   */
  readonly deadLetterQueue?: sqs.IQueue;
  /**
   * Overrides of the `lambda.Function` props, applied last (`environment` is merged). Overriding the
   * runtime, tracing or encryption weakens the defaults and is reported by cdk-nag.
   *
   * @default - none
   */
  readonly functionProps?: Partial<lambda.FunctionProps>;
}

function withoutEnvironment(props: Partial<lambda.FunctionProps> | undefined): Partial<lambda.FunctionProps> {
  if (!props) return {};
  const { environment: _environment, ...rest } = props;
  return rest;
}

function reservedOf(fn: lambda.Function): unknown {
  return (fn.node.defaultChild as lambda.CfnFunction).reservedConcurrentExecutions;
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
      ...(props.reservedConcurrentExecutions !== undefined
        ? { reservedConcurrentExecutions: props.reservedConcurrentExecutions }
        : {}),
      environmentEncryption: props.encryptionKey,
      ...(props.deadLetterQueue ? { deadLetterQueue: props.deadLetterQueue } : {}),
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        // Two glibc malloc arenas instead of one per allocating thread: gzip runs on libuv's pool, and per-thread
        // arenas made the peak RSS of the same work vary by up to 45 MiB (bench: 155–200 MiB → 152–158, no slower).
        MALLOC_ARENA_MAX: '2',
        POWERTOOLS_SERVICE_NAME: props.serviceName ?? `tributary-${props.handlerName}`,
        POWERTOOLS_METRICS_NAMESPACE: 'Tributary',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        POWERTOOLS_LOGGER_LOG_EVENT: 'false',
        POWERTOOLS_TRACER_CAPTURE_RESPONSE: 'false',
        ...props.environment,
        ...props.functionProps?.environment,
      },
      ...withoutEnvironment(props.functionProps),
    });
    // Lambda decrypts its environment with the key.
    this.role.addToPolicy(
      new iam.PolicyStatement({ actions: ['kms:Decrypt'], resources: [props.encryptionKey.keyArn] }),
    );
    acknowledge(this.role, {
      'AwsSolutions-IAM5[Resource::*]':
        'xray:PutTraceSegments and xray:PutTelemetryRecords (active tracing) support no resource-level permissions.',
    });
    if (reservedOf(this.function) === undefined) {
      acknowledge(this.function, { 'HIPAA.Security-LambdaConcurrency': LAMBDA_CONCURRENCY_REASON });
    }
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
