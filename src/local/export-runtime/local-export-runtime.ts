import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { HealthLakeClient } from '@aws-sdk/client-healthlake';
import { ensureTables } from '../../aws/ensure-tables.js';
import { DynamoDbLedgerStore } from '../../fhir-export/dynamodb-ledger-store.js';
import type { ExecutionStatusPort, ExecutionState } from '../../fhir-export/execution-status.js';
import { checkExportStep, startExportStep, type ExportStepDeps } from '../../fhir-export/export-steps.js';
import { BulkDataExportSource } from '../../fhir-export/bulk-data-export-source.js';
import { HealthLakeExportSource } from '../../fhir-export/healthlake-export-source.js';
import { SmartBackendAuth } from '../../fhir-export/smart-backend-auth.js';
import { handleLedgerRequest } from '../../fhir-export/ledger-requests.js';
import { parseProcessFileInput } from '../../fhir-export/process-file-input.js';
import { processExportFile } from '../../fhir-export/process-file.js';
import { errorsByType, RunLedger } from '../../fhir-export/run-ledger.js';
import { createSigV4Fetch } from '../../fhir-export/sigv4-fetch.js';
import type { CheckExportMessage, FhirExportSource, RunCounts, RunRecord, RunStatus } from '../../fhir-export/types.js';
import {
  leaseSecondsOf,
  parseExportWorkflowConfig,
  type ExportSourceConfig,
  type ExportWorkflowConfig,
  type ExportWorkflowConfigInput,
} from '../../fhir-export/workflow-config.js';
import type { TaskCallbacks } from '../../fhir-export/workflow-ports.js';
import { systemClock, type Clock } from '../../ports/clock.js';
import type { EventBus } from '../../ports/event-bus.js';
import type { ObjectStore } from '../../ports/object-store.js';
import { DirectoryObjectStore } from '../object-store/directory-object-store.js';
import { crashPoint } from '../fault-hooks.js';
import { currentOwner, describeOwner, ownerLiveness } from '../process-owner.js';
import {
  LAMBDA_INVOKE,
  S3_GET_OBJECT,
  S3_PUT_OBJECT,
  StateMachineExecutor,
  putEventsEntries,
  putEventsResult,
  s3GetObjectTask,
  s3PutObjectTask,
} from '../state-machine/index.js';
import type { ExecutionEvent } from '../state-machine/index.js';
import { stateDirPaths } from '../state-dir.js';
import { InProcessDelayQueue } from './in-process-delay-queue.js';
import { applyWorkflowSettings, loadWorkflowDefinition } from './workflow-definition.js';

/** Placeholders of the local ASL copy (EXPORT_WORKFLOW.md). */
export const LOCAL_RESOURCES = {
  runLedger: 'local:run-ledger',
  processFile: 'local:process-file',
  startQueue: 'local:start-export-queue',
  eventBus: 'local:event-bus',
} as const;

/** Default local ledger table and export bucket. */
export const LOCAL_LEDGER_TABLE = 'tributary-export-ledger';
export const LOCAL_EXPORT_BUCKET = 'tributary-export';
/** Role named in local StartFHIRExportJob calls (the embedded control plane checks its shape only). */
const LOCAL_DATA_ACCESS_ROLE_ARN = 'arn:aws:iam::000000000000:role/tributary-local-healthlake-export';

/** A progress line for the CLI: ids, state names, counts and error names only. */
export interface ExportProgress {
  runId: string;
  type: string;
  stateName?: string;
  detail?: Record<string, unknown>;
}

/** Result of {@link LocalExportRuntime.runOnce}. */
export interface RunOnceResult {
  runId: string;
  /** SKIPPED when another run holds the lock; COMPLETED_WITH_ERRORS when the export reported errors. */
  status: RunStatus;
  counts: RunCounts;
  error?: { error: string; cause?: string };
  /** Why a SKIPPED run was skipped: `run <runId> is running (owner …)`. */
  reason?: string;
  /** Errors per resource type (COMPLETED_WITH_ERRORS). */
  errors?: Record<string, number>;
  /** Files that failed within ToleratedFailurePercentage (COMPLETED_WITH_ERRORS): count and the first few. */
  failedFiles?: RunRecord['failedFiles'];
  /** The run whose lock this one took over, and why. */
  tookOverFrom?: { runId: string; cause: string };
}

/** An execution a dead process left RUNNING, and what startup did with it. */
export interface RecoveredRun {
  runId: string;
  /** The dead process (`role:host:pid`), when recorded. */
  owner?: string;
  /** `resumed` in this process (`up`), or `failed` so a new run can take the lock at once (`sync`). */
  action: 'resumed' | 'failed';
}

/** Options of {@link createLocalExportRuntime}. */
export interface LocalExportRuntimeOptions {
  stateDir: string;
  /** The Tributary config (its `region`), with optional export settings under `export`. */
  config?: { region?: string; export?: ExportWorkflowConfigInput };
  dynamodbEndpoint: string;
  /** FHIR base URL of the datastore (`…/datastore/<id>/r4`). */
  fhirBaseUrl: string;
  /** HealthLake control-plane endpoint; enables the ListFHIRExportJobs idempotency check as in AWS. */
  healthlakeEndpoint?: string;
  lakeStore: ObjectStore;
  bus: EventBus;
  onProgress?: (progress: ExportProgress) => void;
  /** Default `tributary-export` (the embedded datastore's default bucket). */
  exportBucket?: string;
  ledgerTable?: string;
  /** ASL override (tests); default the committed workflow. */
  definition?: Record<string, unknown>;
  /** Replace the FHIR export source (tests). */
  source?: FhirExportSource;
  /** Wrap process-file (fault injection in tests). */
  wrapProcessFile?: (run: () => Promise<unknown>, input: unknown) => Promise<unknown>;
  clock?: Clock;
  /** This process as executions' owner (`role:host:pid`). Default `currentOwner('export')`. */
  owner?: string;
  /**
   * Called once after each run that ends COMPLETED or COMPLETED_WITH_ERRORS (from `runOnce` and the schedule), before
   * `runOnce` returns: the incremental view update. Progress lines it sends go to the run's listeners; a failure is
   * reported as `RunHookFailed` and does not change the run's status.
   */
  onRunCompleted?: (run: RunRecord, progress: (progress: ExportProgress) => void) => Promise<void>;
  /**
   * What to do at startup with executions a dead process left RUNNING: `resume` them here (default; `up`), or `fail`
   * them (`Tributary.OwnerDied`) and free their lock at once (one-shot `sync`).
   */
  recovery?: 'resume' | 'fail';
}

/** The local export workflow: the same ASL, executor resources bound to in-process equivalents. */
export interface LocalExportRuntime {
  /** One run to its end (`tributary sync`). */
  runOnce(options?: { onProgress?: (progress: ExportProgress) => void; signal?: AbortSignal }): Promise<RunOnceResult>;
  /** Starts a run every `intervalMs` (`tributary up`); returns a stop function. */
  startSchedule(intervalMs: number): () => void;
  /** Run history, newest first (`tributary runs`). */
  listRuns(limit?: number): Promise<RunRecord[]>;
  /** The ledger (watermark, lock, runs). */
  readonly ledger: RunLedger;
  readonly executor: StateMachineExecutor;
  readonly settings: ExportWorkflowConfig;
  /** Where the ASL came from. */
  readonly definitionSource: string;
  /** Executions a dead process had left RUNNING, found at startup. */
  readonly recovered: readonly RecoveredRun[];
  close(): Promise<void>;
}

/**
 * Wires the export workflow locally: loads the ASL, binds `lambda:invoke` to the run-ledger / process-file domain code,
 * `sqs:sendMessage` to an in-process delay queue that drives the same start/check steps as the Lambdas,
 * `events:putEvents` to the bus and `s3:getObject`/`s3:putObject` (ItemReader, ResultWriter) to the bucket directories; recovers interrupted executions and
 * releases the lock when an execution ends TIMED_OUT/ABORTED/FAILED.
 *
 * @example
 * const runtime = await createLocalExportRuntime({ stateDir, dynamodbEndpoint, fhirBaseUrl, healthlakeEndpoint, lakeStore, bus });
 * const { runId, status, counts } = await runtime.runOnce();
 * await runtime.close();
 */
export async function createLocalExportRuntime(options: LocalExportRuntimeOptions): Promise<LocalExportRuntime> {
  const settings = parseExportWorkflowConfig(options.config?.export);
  const region = options.config?.region ?? 'us-east-1';
  const clock = options.clock ?? systemClock;
  const paths = stateDirPaths(options.stateDir);
  const exportBucket = options.exportBucket ?? LOCAL_EXPORT_BUCKET;
  const ledgerTable = options.ledgerTable ?? LOCAL_LEDGER_TABLE;
  const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  const bucketStores = new Map<string, DirectoryObjectStore>();
  const bucketStore = (bucket: string): DirectoryObjectStore => {
    let store = bucketStores.get(bucket);
    if (!store) bucketStores.set(bucket, (store = new DirectoryObjectStore(join(paths.buckets, bucket))));
    return store;
  };
  const getObject = s3GetObjectTask(bucketStore);

  const dynamodb = new DynamoDBClient({ endpoint: options.dynamodbEndpoint, region, credentials, maxAttempts: 3 });
  await ensureTables(dynamodb, [{ name: ledgerTable, partitionKey: 'pk', sortKey: 'sk' }]);

  // The ledger (needed by the executor's resources) asks the executor about lock owners: bound once it exists.
  const executorRef: { current?: StateMachineExecutor } = {};
  const owner = options.owner ?? currentOwner('export');
  const describe = async (executionArn: string) => {
    try {
      return executorRef.current ? await executorRef.current.describeExecution(executionArn) : undefined;
    } catch (error) {
      if ((error as Error).name === 'ExecutionDoesNotExist') return undefined;
      throw error;
    }
  };
  const executions: ExecutionStatusPort = {
    statusOf: async (executionArn) => {
      const description = await describe(executionArn);
      if (!description) return 'UNKNOWN';
      // RUNNING in the store but its process is gone: nobody will ever finish it.
      if (description.status === 'RUNNING' && description.owner && ownerLiveness(description.owner) === 'dead')
        return 'OWNER_DEAD';
      return description.status as ExecutionState;
    },
    describeOwner: async (executionArn) => {
      const recorded = (await describe(executionArn))?.owner;
      return recorded ? describeOwner(recorded) : undefined;
    },
  };
  const leaseSeconds = leaseSecondsOf(settings);
  // The source needs the ledger (its job registry) and the ledger cancels through the source: bound once it exists.
  const sourceRef: { current?: FhirExportSource } = {};
  const ledger = new RunLedger({
    store: new DynamoDbLedgerStore(dynamodb, ledgerTable),
    executions,
    clock,
    leaseSeconds,
    cancelJob: async (job) => sourceRef.current?.cancelExport?.(job),
  });

  const healthlake = options.healthlakeEndpoint
    ? new HealthLakeClient({ endpoint: options.healthlakeEndpoint, region, credentials })
    : undefined;
  const datastoreId = /\/datastore\/([^/]+)\/r4\/?$/.exec(options.fhirBaseUrl)?.[1];
  const source: FhirExportSource =
    options.source ??
    (settings.source.type === 'bulk-data'
      ? await bulkDataSource(settings.source, {
          registry: ledger,
          exportBucket,
          exportStore: bucketStore(exportBucket),
          types: settings.types,
        })
      : undefined) ??
    new HealthLakeExportSource({
      fhirBaseUrl: options.fhirBaseUrl,
      fetch: createSigV4Fetch({ region, service: 'healthlake', credentials }),
      outputS3Uri: `s3://${exportBucket}/fhir-exports`,
      registry: ledger,
      ...(settings.types.length ? { types: settings.types } : {}),
      ...(healthlake && datastoreId ? { control: { client: healthlake, datastoreId } } : {}),
      // A status answer without output[] is read by listing the job's folder in the local bucket.
      exportStore: bucketStore,
      ...(settings.source.type === 'embedded' && settings.source.api === 'control-plane'
        ? { api: 'control-plane' as const, dataAccessRoleArn: LOCAL_DATA_ACCESS_ROLE_ARN }
        : {}),
    });
  sourceRef.current = source;

  const callbacks: TaskCallbacks = {
    success: async (token, output) => requireExecutor().sendTaskSuccess(token, output),
    failure: async (token, error, cause) => requireExecutor().sendTaskFailure(token, error, cause),
    heartbeat: async (token) => requireExecutor().sendTaskHeartbeat(token),
  };
  const reportQueueError = (error: unknown, dropped: boolean) =>
    options.onProgress?.({
      runId: '',
      type: dropped ? 'QueueMessageDropped' : 'QueueMessageRetried',
      detail: { error: (error as Error).name },
    });
  const recheckQueue = new InProcessDelayQueue<CheckExportMessage>({
    consume: async (message) => void (await checkExportStep(message, stepDeps)),
    onError: reportQueueError,
  });
  const startQueue = new InProcessDelayQueue<unknown>({
    consume: async (message) => void (await startExportStep(message, stepDeps)),
    onError: reportQueueError,
  });
  const stepDeps: ExportStepDeps = {
    source,
    callbacks,
    recheckQueue,
    manifestStore: bucketStore(exportBucket),
    types: settings.types,
    clock,
    policy: {
      initialCheckDelaySeconds: settings.initialCheckDelaySeconds,
      maxCheckDelaySeconds: settings.maxCheckDelaySeconds,
      backoffMultiplier: settings.backoffMultiplier,
      maxWaitSeconds: settings.maxWaitSeconds,
      maxDescribeErrors: settings.maxDescribeErrors,
      completedWithErrors: settings.completedWithErrors,
      manifestBucket: exportBucket,
      manifestPrefix: settings.manifestPrefix,
    },
  };

  const processFile = async (payload: unknown) => {
    crashPoint('export.process-file'); // crash tests: SIGKILL while ProcessFiles runs
    const run = () =>
      processExportFile(parseProcessFileInput(payload), {
        exportStore: bucketStore,
        lake: options.lakeStore,
        ...(settings.emitEvents ? { bus: options.bus } : {}),
      });
    return options.wrapProcessFile ? options.wrapProcessFile(run, payload) : run();
  };

  const readObject = (bucket: string, key: string) => bucketStore(bucket).get(key);
  const loaded = options.definition ? { definition: options.definition, source: '(given)' } : loadWorkflowDefinition();
  const definition = applyWorkflowSettings(loaded.definition, settings);
  const executor = new StateMachineExecutor({
    definition,
    stateMachineArn: `arn:aws:states:${region}:000000000000:stateMachine:tributary-export`,
    dbFile: paths.executions,
    clock,
    owner,
    resources: {
      [LAMBDA_INVOKE]: async (parameters) => {
        const { FunctionName, Payload } = parameters as { FunctionName?: string; Payload?: unknown };
        if (FunctionName === LOCAL_RESOURCES.runLedger) return handleLedgerRequest(Payload, ledger, { readObject });
        if (FunctionName === LOCAL_RESOURCES.processFile) return processFile(Payload);
        throw Object.assign(new Error(`no local function ${String(FunctionName)}`), {
          name: 'Lambda.ResourceNotFoundException',
        });
      },
      'arn:aws:states:::sqs:sendMessage': async (parameters) => {
        const { QueueUrl, MessageBody } = parameters as { QueueUrl?: string; MessageBody?: unknown };
        if (QueueUrl !== LOCAL_RESOURCES.startQueue)
          throw Object.assign(new Error(`no local queue ${String(QueueUrl)}`), { name: 'SQS.QueueDoesNotExist' });
        const body = typeof MessageBody === 'string' ? (JSON.parse(MessageBody) as unknown) : MessageBody;
        await startQueue.send(body, 0);
        return { MessageId: randomBytes(16).toString('hex') };
      },
      'arn:aws:states:::events:putEvents': async (parameters) => {
        const events = putEventsEntries(parameters);
        const result = await options.bus.publish(events);
        return putEventsResult(events, result.failed.length);
      },
      // ResultWriter output (the Map's result files and manifest.json), read back by CompleteRun.
      [S3_PUT_OBJECT]: s3PutObjectTask(bucketStore),
      [S3_GET_OBJECT]: async (parameters) =>
        JSON.parse(Buffer.from(await getObject(parameters)).toString('utf8')) as unknown,
    },
  });
  executorRef.current = executor;
  function requireExecutor(): StateMachineExecutor {
    if (!executorRef.current) throw new Error('executor not ready');
    return executorRef.current;
  }

  // The execution timeout (and stops) are seen by no Catch: release the lock on the end event, as the
  // EventBridge status-change rule does in AWS.
  const pendingReleases = new Set<Promise<unknown>>();
  const progressListeners = new Map<string, (progress: ExportProgress) => void>();
  // The completed-run hook: runOnce calls it itself; executions it did not start (the schedule) get it on their end.
  const startedByRunOnce = new Set<string>();
  const pendingHooks = new Set<Promise<unknown>>();
  const runCompletedHook = async (runId: string, listener?: (progress: ExportProgress) => void) => {
    if (!options.onRunCompleted) return;
    const emit = (progress: ExportProgress) => {
      options.onProgress?.(progress);
      listener?.(progress);
    };
    try {
      const run = await ledger.getRun(runId);
      if (run && (run.status === 'COMPLETED' || run.status === 'COMPLETED_WITH_ERRORS') && run.transactionTime)
        await options.onRunCompleted(run, emit);
    } catch (error) {
      emit({ runId, type: 'RunHookFailed', detail: { error: (error as Error).name } });
    }
  };
  executor.onEvent((event: ExecutionEvent) => {
    const runId = executionNameOf(event.executionArn);
    const progress: ExportProgress = {
      runId,
      type: event.type,
      ...(event.stateName ? { stateName: event.stateName } : {}),
      ...(event.detail ? { detail: event.detail } : {}),
    };
    options.onProgress?.(progress);
    progressListeners.get(event.executionArn)?.(progress);
    const status = { ExecutionTimedOut: 'TIMED_OUT', ExecutionAborted: 'ABORTED', ExecutionFailed: 'FAILED' }[
      event.type
    ];
    if (event.type === 'ExecutionSucceeded' && !event.executionArn.includes('/')) {
      if (startedByRunOnce.has(event.executionArn)) return;
      const hook = runCompletedHook(runId);
      pendingHooks.add(hook);
      void hook.finally(() => pendingHooks.delete(hook));
    }
    if (!status || event.executionArn.includes('/')) return; // Map children carry `/` in their ARNs
    const release = describe(event.executionArn)
      .catch(() => undefined)
      .then((description) =>
        handleLedgerRequest(
          {
            source: 'aws.states',
            'detail-type': 'Step Functions Execution Status Change',
            detail: {
              executionArn: event.executionArn,
              name: runId,
              status,
              error: (event.detail?.error as string | undefined) ?? null,
              cause: description?.cause ?? null,
            },
          },
          ledger,
        ),
      )
      .catch((error: unknown) =>
        options.onProgress?.({ runId, type: 'LockReleaseFailed', detail: { error: (error as Error).name } }),
      );
    pendingReleases.add(release);
    void release.finally(() => pendingReleases.delete(release));
  });

  const recovered: RecoveredRun[] = (
    await executor.recover({
      orphans: options.recovery ?? 'resume',
      isOwnerAlive: (recordedOwner) => ownerLiveness(recordedOwner) === 'alive',
    })
  ).map((execution) => ({
    runId: execution.name,
    ...(execution.owner ? { owner: execution.owner } : {}),
    action: execution.action,
  }));
  // A failed orphan's end event releases its lock: let that land before checking for an orphaned lock.
  await Promise.allSettled([...pendingReleases]);
  await releaseOrphanedLock(ledger, executions);

  let closed = false;
  const schedules = new Set<NodeJS.Timeout>();
  // Renew the lease of the lock an execution of this process holds, well before it runs out.
  const renewal = setInterval(
    () => void renewOwnLock(ledger, executor, owner).catch(() => undefined),
    Math.max(1, leaseSeconds / 3) * 1000,
  );
  renewal.unref();

  const runtime: LocalExportRuntime = {
    ledger,
    executor,
    settings,
    definitionSource: loaded.source,
    recovered,
    async runOnce(runOptions = {}) {
      const runId = newRunId(clock);
      const executionArn = executor.stateMachineArn.replace(':stateMachine:', ':execution:') + `:${runId}`;
      if (runOptions.onProgress) progressListeners.set(executionArn, runOptions.onProgress);
      startedByRunOnce.add(executionArn);
      try {
        const started = await executor.startExecution({ name: runId, input: {} });
        const description = await executor.waitForExecution(
          started.executionArn,
          runOptions.signal ? { signal: runOptions.signal } : {},
        );
        await Promise.allSettled([...pendingReleases]);
        const run = await ledger.getRun(runId);
        const status: RunStatus = run?.status ?? (description.status === 'SUCCEEDED' ? 'SKIPPED' : 'FAILED');
        const error = run?.error
          ? { error: run.error, ...(run.cause ? { cause: run.cause } : {}) }
          : description.error
            ? { error: description.error, ...(description.cause ? { cause: description.cause } : {}) }
            : undefined;
        const errors = run?.counts ? errorsByType(run.counts) : {};
        if (status === 'COMPLETED' || status === 'COMPLETED_WITH_ERRORS')
          await runCompletedHook(runId, runOptions.onProgress);
        return {
          runId,
          status: status === 'RUNNING' ? 'FAILED' : status,
          counts: run?.counts ?? {},
          ...(error ? { error } : {}),
          ...(status === 'SKIPPED' && run?.cause ? { reason: run.cause } : {}),
          ...(Object.keys(errors).length > 0 ? { errors } : {}),
          ...(run?.failedFiles ? { failedFiles: run.failedFiles } : {}),
          ...(run?.tookOverFrom ? { tookOverFrom: run.tookOverFrom } : {}),
        };
      } finally {
        progressListeners.delete(executionArn);
        startedByRunOnce.delete(executionArn);
      }
    },
    startSchedule(intervalMs) {
      const fire = () => {
        if (closed) return;
        executor
          .startExecution({ name: newRunId(clock), input: {} })
          .catch((error: unknown) =>
            options.onProgress?.({ runId: '', type: 'ScheduleFailed', detail: { error: (error as Error).name } }),
          );
      };
      fire();
      const timer = setInterval(fire, intervalMs);
      schedules.add(timer);
      return () => {
        clearInterval(timer);
        schedules.delete(timer);
      };
    },
    listRuns: (limit) => ledger.listRuns(limit),
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(renewal);
      for (const timer of schedules) clearInterval(timer);
      await startQueue.close();
      await recheckQueue.close();
      await executor.close();
      await Promise.allSettled([...pendingReleases]);
      await Promise.allSettled([...pendingHooks]);
      dynamodb.destroy();
      healthlake?.destroy();
    },
  };
  return runtime;
}

/** Extends the lease of the lock when an execution of this process holds it and still runs. */
async function renewOwnLock(ledger: RunLedger, executor: StateMachineExecutor, owner: string): Promise<void> {
  const lock = await ledger.lock();
  if (!lock) return;
  const description = await executor.describeExecution(lock.owner).catch(() => undefined);
  if (description?.status === 'RUNNING' && description.owner === owner) await ledger.renew(lock.owner);
}

/** Frees a lock whose owner is no longer running (e.g. the process died before recover() could fail it). */
async function releaseOrphanedLock(ledger: RunLedger, executions: ExecutionStatusPort): Promise<void> {
  const lock = await ledger.lock();
  if (!lock) return;
  const state = await executions.statusOf(lock.owner);
  if (state === 'RUNNING' || state === 'PENDING_REDRIVE') return;
  await ledger.fail({
    runId: lock.runId,
    executionArn: lock.owner,
    error: 'Ledger.LockRecovered',
    cause: `owner execution is ${state}`,
  });
}

function newRunId(clock: Clock): string {
  const stamp = clock
    .now()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `export-${stamp}-${randomBytes(3).toString('hex')}`;
}

function executionNameOf(executionArn: string): string {
  return executionArn.slice(executionArn.lastIndexOf(':') + 1);
}

/** A Bulk Data v2 source from config, with SMART Backend Services auth when configured. */
async function bulkDataSource(
  config: Extract<ExportSourceConfig, { type: 'bulk-data' }>,
  deps: { registry: RunLedger; exportBucket: string; exportStore: ObjectStore; types: readonly string[] },
): Promise<FhirExportSource> {
  const auth = config.smart
    ? new SmartBackendAuth({
        ...(config.smart.tokenUrl ? { tokenUrl: config.smart.tokenUrl } : { fhirBaseUrl: config.baseUrl }),
        clientId: config.smart.clientId,
        privateKeyPem: await readFile(config.smart.privateKeyFile, 'utf8'),
        algorithm: config.smart.algorithm,
        ...(config.smart.keyId ? { keyId: config.smart.keyId } : {}),
        scope: config.smart.scope,
      })
    : undefined;
  return new BulkDataExportSource({
    fhirBaseUrl: config.baseUrl,
    ...(auth ? { fetch: auth.wrap((url, init) => fetch(url, init)) } : {}),
    registry: deps.registry,
    exportBucket: deps.exportBucket,
    exportStore: deps.exportStore,
    ...(deps.types.length ? { types: deps.types } : {}),
  });
}
