import { join } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { currentOwner } from '../../local/process-owner.js';
import { StateDirBusyError } from '../../local/state-dir-lock.js';
import { UsageError } from '../errors.js';
import { configOption, dirOption, EXIT } from '../options.js';
import { Progress } from '../progress.js';

const MiB = 1024 * 1024;

/** Options of `tributary backfill`. */
interface BackfillOptions {
  table: string;
  dir: string;
  config?: string;
  aws?: boolean;
  stateMachine?: string;
  from?: string;
  to?: string;
  quiet?: boolean;
}

/**
 * `tributary backfill --table NAME`: a FULL snapshot of a configured table into the lake on demand (every item as an
 * `r` record in the table's partitions), then the current state refreshed, as `sync` does. With `--aws`, starts the
 * deployed backfill state machine instead.
 */
export function registerBackfill(program: Command): void {
  program
    .command('backfill')
    .description(
      'Take a snapshot of a configured DynamoDB table into the lake now: a FULL export at a whole second ' +
        "(ExportTableToPointInTime; point-in-time recovery is enabled if it is off), landed as r records in the table's " +
        'partitions, then current_<table> is refreshed. Uses a running `tributary up` on the state directory if there is ' +
        'one. Exit codes: 0 ok, 1 failed, 2 usage or config error, 3 skipped (another live process holds the state ' +
        'directory), 4 some exported items could not be landed (see _errors/<table>-backfill/).',
    )
    .requiredOption('-t, --table <name>', 'the configured table to snapshot')
    .addOption(dirOption())
    .addOption(configOption())
    .option('--aws', 'start the deployed backfill state machine (AWS) instead of a local snapshot')
    .option('--state-machine <arn>', 'with --aws: the BackfillStateMachineArn stack output')
    .option('--from <iso>', 'with --aws: an INCREMENTAL export from this time (default: a FULL snapshot)')
    .option('--to <iso>', 'with --aws and --from: the end of the window (default: the latest restorable time)')
    .option('-q, --quiet', 'print only errors')
    .action(async (options: BackfillOptions) => {
      const { config } = await loadConfig(options.config);
      const table = config.tables.find((t) => t.name === options.table);
      if (!table)
        throw new UsageError(
          `--table ${options.table}: not a configured table (configured: ${config.tables.map((t) => t.name).join(', ') || 'none'})`,
        );
      const progress = new Progress('backfill', process.stderr, 2000, Boolean(options.quiet));
      if (options.aws) {
        await startOnAws(options, progress);
        return;
      }
      if (options.stateMachine || options.from || options.to)
        throw new UsageError('--state-machine, --from and --to go with --aws');

      const { LocalStack, BACKFILL_BUCKET } = await import('../../local/local-stack.js');
      const { takeSnapshot } = await import('../../backfill/table-exports.js');
      const { PartitionedNdjsonWriter } = await import('../../lake/partitioned-ndjson-writer.js');
      const { ErrorSink } = await import('../../lake/error-sink.js');
      const { DirectoryObjectStore } = await import('../../local/object-store/directory-object-store.js');
      const { materialiseCurrentState } = await import('../../lake/current-state.js');
      let stack;
      try {
        // Attaches to a running `up` (its DynamoDB); else embeds the services under the state-directory lock.
        stack = await LocalStack.open({ dir: options.dir, config, owner: currentOwner('backfill'), fhir: false });
      } catch (error) {
        if (!(error instanceof StateDirBusyError)) throw error;
        process.stderr.write(`tributary backfill: skipped: ${error.message}\n`);
        process.exitCode = EXIT.busy;
        return;
      }
      try {
        for (const line of stack.startup.preparedTables ?? []) progress.note(line);
        const flushMiB = table.pipe?.flushMiB ?? 5;
        const errors = new ErrorSink({ store: stack.lake, pipeline: `${table.name}-backfill` });
        const result = await takeSnapshot({
          dynamodb: stack.clients.dynamodb,
          table,
          destination: { bucket: BACKFILL_BUCKET, prefix: table.name },
          exportStore: (bucket) => new DirectoryObjectStore(join(stack.paths.buckets, bucket)),
          writer: new PartitionedNdjsonWriter({
            store: stack.lake,
            maxBytes: Math.round(flushMiB * MiB),
            maxTotalBytes: Math.max(64 * MiB, Math.round(flushMiB * MiB)),
          }),
          errors,
          lake: stack.lake,
          onStarted: ({ exportId, exportTime, enabledPitr }) => {
            if (enabledPitr) progress.note(`enabled point-in-time recovery on ${table.name} (exports need it)`);
            progress.note(`snapshot ${exportId} of ${table.name} at ${exportTime.toISOString()} started`);
          },
          onProgress: (p) =>
            progress.note(
              `snapshot ${p.exportId}: ${p.dataFiles}/${p.totalDataFiles} data files, ${p.records} items landed`,
            ),
        });
        progress.note(
          `snapshot ${result.exportId}: ${result.records} items landed as r records in changes/${table.name}/` +
            (result.failed > 0 ? `, ${result.failed} rejected (see ${errors.location})` : ''),
        );
        if (result.vanished > 0)
          progress.note(
            `snapshot ${result.exportId}: ${result.vanished} key(s) the lake held are no longer in the table: landed as deletes`,
          );
        const update = await materialiseCurrentState({ store: stack.lake, table: table.name });
        progress.note(`current ${table.name}: ${update.files} change files folded in (${update.keys} keys)`);
        process.exitCode = result.failed > 0 ? EXIT.completedWithErrors : EXIT.ok;
      } finally {
        await stack.close();
      }
    });
}

/** `--aws`: starts the deployed backfill state machine and prints the execution. */
async function startOnAws(options: BackfillOptions, progress: Progress): Promise<void> {
  if (!options.stateMachine)
    throw new UsageError('--aws needs --state-machine <arn> (the BackfillStateMachineArn stack output)');
  if (options.to && !options.from) throw new UsageError('--to needs --from');
  const { startAwsBackfill } = await import('../../backfill/start-aws-backfill.js');
  const { BackfillInputError } = await import('../../backfill/workflow-input.js');
  let started;
  try {
    started = await startAwsBackfill({
      stateMachineArn: options.stateMachine,
      table: options.table,
      mode: options.from ? 'INCREMENTAL' : 'FULL',
      from: options.from,
      to: options.to,
    });
  } catch (error) {
    // An invalid --from/--to is the user's to fix (exit 2), named by field.
    if (error instanceof BackfillInputError) throw new UsageError(error.message);
    throw error;
  }
  progress.note(`started ${started.input.mode} backfill of ${options.table}: execution ${started.executionArn}`);
  process.stdout.write(`${started.executionArn}\n`);
}
