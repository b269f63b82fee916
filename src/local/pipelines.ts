import type { TableConfig, TributaryConfig } from '../config/schema.js';
import { compileFilters } from '../event-pattern/compile-filters.js';
import { ErrorSink } from '../lake/error-sink.js';
import { PartitionedNdjsonWriter } from '../lake/partitioned-ndjson-writer.js';
import type { FhirWriteThrough } from '../patient-enrichment/fhir-write-through.js';
import { BusTarget } from '../pipes/bus-target.js';
import { ChangeLakeTarget } from '../pipes/change-lake-target.js';
import type { CheckpointStore } from '../pipes/checkpoint-store.js';
import { DynamoDbStreamSource } from '../pipes/dynamodb-stream-source.js';
import { patientEnrichmentStep } from '../pipes/patient-enrichment-step.js';
import { PipeRunner } from '../pipes/pipe-runner.js';
import { GapReportOnly, TableBackfill } from '../pipes/table-backfill.js';
import type { ObjectStore } from '../ports/object-store.js';
import type { LocalEventBus } from '../event-bus/local-bus.js';
import type { LocalDynamoDbClients } from './aws-clients.js';

/** What the local pipes are wired to. */
export interface LocalPipeWiring {
  config: TributaryConfig;
  clients: LocalDynamoDbClients;
  lake: ObjectStore;
  bus: LocalEventBus;
  checkpoints: CheckpointStore;
  /** Consumer identity for pipe leases: `currentOwner(role)`. */
  owner: string;
  /**
   * Where pipes report waiting for a lease and rejected records (ids, counts and error types only).
   * Default: one line each on stderr.
   */
  log?: (line: string) => void;
  /** FHIR store write-through for the patient enrichment, when configured and available. */
  writeThrough?: FhirWriteThrough;
  /**
   * Where snapshots and repairs of lake pipes export to (`ExportTableToPointInTime`) and how to read a bucket back.
   * Without it, lake pipes neither snapshot nor repair: a trimmed shard is then reported and resumed at its trim
   * horizon, as for bus pipes.
   */
  exports?: { bucket: string; store: (bucket: string) => ObjectStore };
  /** The embedded DynamoDB's stream retention, ms (default 24 h). */
  streamRetentionMs?: number;
}

const MiB = 1024 * 1024;
/** Most uncompressed bytes one local lake target buffers across all its partitions. */
const LOCAL_BUFFER_CAP = 64 * MiB;

/** Name of the pipe of a table, used for checkpoints and `_errors/<pipe>`. */
export const pipeNameOf = (table: TableConfig) => `${table.name}-pipe`;

/**
 * Builds one {@link PipeRunner} per configured table with a pipe: stream source, filter, optional
 * enrichment, and the lake or bus target.
 *
 * @example
 * const runners = buildLocalPipes({ config, clients, lake, bus, checkpoints, owner: currentOwner('sync') });
 * for (const runner of runners) await runner.drain();
 */
export function buildLocalPipes(wiring: LocalPipeWiring): PipeRunner[] {
  const runners: PipeRunner[] = [];
  const log = wiring.log ?? ((line: string) => void process.stderr.write(`${line}\n`));
  for (const table of wiring.config.tables) {
    const pipe = table.pipe;
    if (!pipe) continue;
    const name = pipeNameOf(table);
    const errors = new ErrorSink({ store: wiring.lake, pipeline: name });
    const enrichment =
      pipe.enrichment === 'patient-fhir'
        ? patientEnrichmentStep(wiring.config.patientEnrichment, errors, wiring.writeThrough)
        : undefined;
    const lakeWriter = () =>
      new PartitionedNdjsonWriter({
        store: wiring.lake,
        maxBytes: Math.round(pipe.flushMiB * MiB),
        // Bounds the pipe's memory whatever the number of partitions (Firehose's ~500 would be 2.5 GB).
        maxTotalBytes: Math.max(LOCAL_BUFFER_CAP, Math.round(pipe.flushMiB * MiB)),
      });
    const target =
      pipe.target === 'bus'
        ? new BusTarget(wiring.bus, errors)
        : new ChangeLakeTarget({ table, errors, flushSeconds: pipe.flushSeconds, writer: lakeWriter() });
    // Snapshots and repairs land change records, so only lake pipes have them.
    const backfill =
      pipe.target === 'lake' && wiring.exports
        ? new TableBackfill({
            pipe: name,
            table,
            snapshot: pipe.snapshot,
            dynamodb: wiring.clients.dynamodb,
            streams: wiring.clients.streams,
            checkpoints: wiring.checkpoints,
            exports: {
              destination: { bucket: wiring.exports.bucket, prefix: table.name },
              store: wiring.exports.store,
            },
            writer: lakeWriter,
            lake: wiring.lake,
            // Its own sink on the pipe's error location: export lines it rejects and the record of each stream gap.
            errors: new ErrorSink({ store: wiring.lake, pipeline: name }),
            ...(wiring.streamRetentionMs !== undefined ? { retentionMs: wiring.streamRetentionMs } : {}),
            log,
          })
        : new GapReportOnly({
            pipe: name,
            table,
            dynamodb: wiring.clients.dynamodb,
            streams: wiring.clients.streams,
            checkpoints: wiring.checkpoints,
            errors: new ErrorSink({ store: wiring.lake, pipeline: name }),
            log,
          });
    runners.push(
      new PipeRunner(
        {
          name,
          source: new DynamoDbStreamSource({
            table: table.name,
            dynamodb: wiring.clients.dynamodb,
            streams: wiring.clients.streams,
            startingPosition: pipe.startingPosition,
          }),
          filter: compileFilters(pipe.filter),
          ...(enrichment ? { enrichment } : {}),
          target,
          batchSize: pipe.batchSize,
          batchWindowSeconds: pipe.batchWindowSeconds,
          errors,
          ...(pipe.maximumRetryAttempts !== undefined ? { maximumRetryAttempts: pipe.maximumRetryAttempts } : {}),
          ...(backfill ? { backfill } : {}),
        },
        wiring.checkpoints,
        { owner: wiring.owner, log },
      ),
    );
  }
  return runners;
}
