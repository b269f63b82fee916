import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { TributaryConfig } from '../config/schema.js';
import { LocalEventBus } from '../event-bus/local-bus.js';
import { FhirWriteThrough } from '../patient-enrichment/fhir-write-through.js';
import { CheckpointStore } from '../pipes/checkpoint-store.js';
import type { PipeRunner } from '../pipes/pipe-runner.js';
import { localDynamoDbClients, type LocalDynamoDbClients } from './aws-clients.js';
import { startEmbeddedDynamoDb } from './dynamodb/index.js';
import type { EmbeddedDynamoDb } from './dynamodb/types.js';
import { ensureTables } from '../aws/ensure-tables.js';
import { ensurePitr } from '../backfill/table-exports.js';
import { resolveStreamRetentionSeconds } from './dynamodb/index.js';
import { startFhirServer } from './fhir-store/index.js';
import { createLocalExportRuntime, type LocalExportRuntime } from './export-runtime/index.js';
import type { FhirServer } from './fhir-store/types.js';
import { resolveLakeDir } from './lake-dir.js';
import { viewUpdateHook } from './view-updates.js';
import { DirectoryObjectStore } from './object-store/directory-object-store.js';
import { buildLocalPipes } from './pipelines.js';
import { readEndpoints, stateDirPaths, type Endpoints, type StateDirPaths } from './state-dir.js';
import { acquireStateDirLock, type StateDirLock } from './state-dir-lock.js';
import { removeOrphanedTempFiles } from './object-store/orphaned-temp-files.js';
import { currentOwner, parseOwner } from './process-owner.js';

/** Options of {@link LocalStack.open}. */
export interface LocalStackOptions {
  dir: string;
  config: TributaryConfig;
  /** Consumer identity for pipe leases, e.g. `up:<pid>` or `sync:<pid>`. */
  owner: string;
  /** Start the embedded FHIR store too. Default true. */
  fhir?: boolean;
  /** Fixed ports (default ephemeral). */
  ports?: { dynamodb?: number; fhir?: number };
  /** Attach to a running `tributary up` on the same state directory if there is one. Default true. */
  attach?: boolean;
  /**
   * Export executions a dead process left RUNNING: `resume` them in this process (default, `up`) or `fail` them and
   * free their lock at once (one-shot `sync`).
   */
  exportRecovery?: 'resume' | 'fail';
  /**
   * Stream retention of the embedded DynamoDB, seconds (e.g. from config): records older are trimmed from its
   * Streams API. Default: env `TRIBUTARY_STREAM_RETENTION_SECONDS`, else 86,400 (24 hours, as in AWS).
   */
  streamRetentionSeconds?: number;
}

/** What opening the stack found and cleaned up (embedded mode), for the command to report. */
export interface StackStartup {
  /** The dead process (`role:host:pid`) whose state-directory lock was taken over. */
  tookOverFrom?: string;
  /** Orphaned temporary files of dead lake/bucket writers removed. */
  removedTempFiles: number;
  /** Stream records of writes a crash interrupted, appended before the embedded DynamoDB served again. */
  recoveredStreamRecords?: number;
  /** What preparing the configured tables changed (a stream enabled, point-in-time recovery enabled), one line each. */
  preparedTables?: string[];
}

/** Bucket of the local S3 stand-in that snapshots and stream-gap repairs export DynamoDB tables to. */
export const BACKFILL_BUCKET = 'tributary-backfill';

/** Bucket of the local S3 stand-in that FHIR exports land in. */
export const EXPORT_BUCKET = 'tributary-export';

/**
 * The local runtime's services on one state directory: the embedded DynamoDB (with Streams) and
 * FHIR store, the lake, the local bus and the pipes. It either starts the services in-process or
 * attaches to the ones a running `tributary up` serves (found through `endpoints.json`).
 *
 * @example
 * const stack = await LocalStack.open({ dir: '.tributary', config, owner: 'sync' });
 * for (const pipe of stack.pipes) await pipe.drain();
 * await stack.close();
 */
export class LocalStack {
  public readonly pipes: PipeRunner[];
  /** The export workflow on the same ASL as AWS (embedded mode with a FHIR store only). */
  public exportRuntime: LocalExportRuntime | undefined;
  /** What opening found (embedded mode). */
  public startup: StackStartup = { removedTempFiles: 0 };
  /** The state directory's process lock (embedded mode). */
  private stateLock: StateDirLock | undefined;

  private constructor(
    public readonly paths: StateDirPaths,
    public readonly config: TributaryConfig,
    public readonly endpoints: Endpoints,
    /** `embedded`: this process serves the endpoints; `attached`: a running `tributary up` does. */
    public readonly mode: 'embedded' | 'attached',
    public readonly clients: LocalDynamoDbClients,
    public readonly lake: DirectoryObjectStore,
    public readonly bus: LocalEventBus,
    private readonly checkpoints: CheckpointStore,
    private readonly dynamodb: EmbeddedDynamoDb | undefined,
    public readonly fhirServer: FhirServer | undefined,
    owner: string,
    streamRetentionSeconds?: number,
  ) {
    const writeThrough =
      config.patientEnrichment.writeThrough && endpoints.fhir
        ? new FhirWriteThrough({ baseUrl: endpoints.fhir, identifierSystem: config.patientEnrichment.identifierSystem })
        : undefined;
    this.pipes = buildLocalPipes({
      config,
      clients,
      lake,
      bus,
      checkpoints,
      owner,
      ...(writeThrough ? { writeThrough } : {}),
      exports: { bucket: BACKFILL_BUCKET, store: (bucket) => new DirectoryObjectStore(join(paths.buckets, bucket)) },
      ...(streamRetentionSeconds !== undefined ? { streamRetentionMs: streamRetentionSeconds * 1000 } : {}),
    });
  }

  public static async open(options: LocalStackOptions): Promise<LocalStack> {
    const paths = stateDirPaths(options.dir);
    await mkdir(paths.root, { recursive: true });
    const lake = new DirectoryObjectStore(resolveLakeDir(options.dir, options.config));
    const bus = new LocalEventBus({ store: lake });
    const retentionSeconds = resolveStreamRetentionSeconds(
      options.streamRetentionSeconds ?? options.config.dynamodb.streamRetentionSeconds,
    );
    const checkpoints = new CheckpointStore(paths.pipes);

    let running: { endpoints: Endpoints } | undefined;
    try {
      running = options.attach === false ? undefined : await liveEndpoints(options.dir, options.config.region);
    } catch (error) {
      checkpoints.close();
      throw error;
    }
    if (running) {
      const clients = localDynamoDbClients(running.endpoints.dynamodb, options.config.region);
      return new LocalStack(
        paths,
        options.config,
        running.endpoints,
        'attached',
        clients,
        lake,
        bus,
        checkpoints,
        undefined,
        undefined,
        options.owner,
        retentionSeconds,
      );
    }

    let dynamodb: EmbeddedDynamoDb | undefined;
    let fhirServer: FhirServer | undefined;
    let clients: LocalDynamoDbClients | undefined;
    let stack: LocalStack | undefined;
    let stateLock: StateDirLock | undefined;
    try {
      // One process embeds a state directory's services (dynalite's LevelDB is single-process): a second one gets
      // StateDirBusyError naming the holder; a dead holder's lock is taken over.
      stateLock = await acquireStateDirLock(paths.root, lockOwner(options.owner));
      const removedTempFiles =
        (await removeOrphanedTempFiles(lake.root)) + (await removeOrphanedTempFiles(paths.buckets));
      dynamodb = await startEmbeddedDynamoDb({
        dataDir: paths.dynamodb,
        streamsDbFile: paths.streams,
        bucketsDir: paths.buckets,
        region: options.config.region,
        streamRetentionSeconds: retentionSeconds,
        ...(options.ports?.dynamodb !== undefined ? { port: options.ports.dynamodb } : {}),
      });
      if (options.fhir !== false) {
        fhirServer = await startFhirServer({
          dbFile: paths.fhir,
          exportStore: (bucket) => new DirectoryObjectStore(join(paths.buckets, bucket)),
          exportBucket: EXPORT_BUCKET,
          region: options.config.region,
          ...(options.ports?.fhir !== undefined ? { port: options.ports.fhir } : {}),
        });
      }
      const endpoints: Endpoints = {
        dynamodb: dynamodb.endpoint,
        ...(fhirServer ? { fhir: fhirServer.fhirBaseUrl, healthlake: fhirServer.healthlakeEndpoint } : {}),
      };
      clients = localDynamoDbClients(dynamodb.endpoint, options.config.region);
      const preparedTables: string[] = [];
      await ensureTables(clients.dynamodb, options.config.tables, {
        onStreamEnabled: (table, viewType) =>
          preparedTables.push(`dynamodb: table ${table} had no stream: enabled one (${viewType}, UpdateTable)`),
      });
      // Snapshots and stream-gap repairs export from point-in-time recovery, which must be on before a gap starts.
      let pitrEnabledMs: number | undefined;
      for (const table of options.config.tables) {
        if (table.pipe?.target !== 'lake') continue;
        const pitr = await ensurePitr(clients.dynamodb, table.name);
        if (!pitr.enabledNow) continue;
        pitrEnabledMs = Math.max(pitrEnabledMs ?? 0, pitr.earliestMs ?? Date.now());
        preparedTables.push(
          `dynamodb: enabled point-in-time recovery on ${table.name} (snapshots and stream-gap repairs export from it)`,
        );
      }
      // Stream record times are whole seconds: a write stamped with the second PITR was enabled in would be stamped
      // before its earliest restorable time, out of reach of an incremental export. Clients find the endpoint only once
      // the stack is open, so opening after that second ends keeps every write's stamp inside PITR's window.
      if (pitrEnabledMs !== undefined) {
        const nextSecond = Math.floor(pitrEnabledMs / 1000) * 1000 + 1000;
        if (Date.now() < nextSecond) await new Promise((resolve) => setTimeout(resolve, nextSecond - Date.now() + 5));
      }
      stack = new LocalStack(
        paths,
        options.config,
        endpoints,
        'embedded',
        clients,
        lake,
        bus,
        checkpoints,
        dynamodb,
        fhirServer,
        options.owner,
        retentionSeconds,
      );
      stack.stateLock = stateLock;
      stack.startup = {
        ...(stateLock.tookOverFrom ? { tookOverFrom: stateLock.tookOverFrom } : {}),
        removedTempFiles,
        recoveredStreamRecords: dynamodb.recovered.appended,
        preparedTables,
      };
      if (fhirServer) {
        // Recovers executions a killed process left behind, and releases their lock.
        stack.exportRuntime = await createLocalExportRuntime({
          stateDir: options.dir,
          config: { region: options.config.region, export: options.config.export },
          dynamodbEndpoint: dynamodb.endpoint,
          fhirBaseUrl: fhirServer.fhirBaseUrl,
          healthlakeEndpoint: fhirServer.healthlakeEndpoint,
          lakeStore: lake,
          bus,
          owner: stateLock.owner,
          recovery: options.exportRecovery ?? 'resume',
          // Each completed run updates the configured views (views/<name>/run=<run>/).
          onRunCompleted: viewUpdateHook(lake, options.config.views),
        });
      }
      return stack;
    } catch (error) {
      // Nothing was flushed or committed yet: stop what started, so a failed open leaves no server or handle behind.
      await stack?.exportRuntime?.close().catch(() => undefined);
      checkpoints.close();
      clients?.dynamodb.destroy();
      clients?.streams.destroy();
      await fhirServer?.close().catch(() => undefined);
      await dynamodb?.close().catch(() => undefined);
      await stateLock?.release().catch(() => undefined);
      throw error;
    }
  }

  /** Wakes a listener whenever a table's stream gets records (embedded mode only). */
  public onStreamRecords(listener: (table: string) => void): () => void {
    return this.dynamodb?.onRecords(listener) ?? (() => undefined);
  }

  /** Drains every pipe: reads all available records, delivers, flushes, commits. */
  public async drainPipes(onPipe?: (pipe: PipeRunner) => void): Promise<PipeRunner[]> {
    for (const pipe of this.pipes) {
      await pipe.drain();
      onPipe?.(pipe);
    }
    await this.bus.flush();
    return this.pipes;
  }

  /**
   * Flushes every pipe and the bus, then stops the services this process started. Every pipe is closed (and its
   * lease released) even when another one fails; the first failure is rethrown.
   */
  public async close(): Promise<void> {
    try {
      const failures: unknown[] = [];
      for (const pipe of this.pipes) await pipe.close().catch((error: unknown) => failures.push(error));
      await this.bus.flush().catch((error: unknown) => failures.push(error));
      if (failures.length > 0) throw failures[0];
    } finally {
      await this.exportRuntime?.close();
      this.checkpoints.close();
      this.clients.dynamodb.destroy();
      this.clients.streams.destroy();
      await this.fhirServer?.close();
      await this.dynamodb?.close();
      await this.stateLock?.release();
    }
  }
}

/** The state-directory lock's owner: the stack owner when it is `role:host:pid`, else this process in that role. */
function lockOwner(owner: string): string {
  return parseOwner(owner) ? owner : currentOwner(owner.split(':')[0] || 'local');
}

/** The endpoints of a live `tributary up` on this state directory, if any. */
async function liveEndpoints(dir: string, region: string): Promise<{ endpoints: Endpoints } | undefined> {
  const endpoints = await readEndpoints(dir);
  if (!endpoints?.dynamodb) return undefined;
  if (endpoints.pid !== undefined) {
    try {
      process.kill(endpoints.pid, 0);
    } catch {
      return undefined; // the owner died without cleaning up
    }
  }
  const { dynamodb } = localDynamoDbClients(endpoints.dynamodb, region);
  try {
    await dynamodb.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(2000) });
    return { endpoints };
  } catch {
    return undefined;
  } finally {
    dynamodb.destroy();
  }
}
