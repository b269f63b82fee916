import { Option, type Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { currentOwner } from '../../local/process-owner.js';
import { clearEndpoints, writeEndpoints, type Endpoints } from '../../local/state-dir.js';
import { PipeBusyError } from '../../pipes/errors.js';
import { failureType } from '../../pipes/failure-type.js';
import { UsageError } from '../errors.js';
import { configOption, dirOption } from '../options.js';
import { positiveInt, positiveNumber } from '../option-parsers.js';
import { Progress } from '../progress.js';
import { startupReport } from '../startup-report.js';
import { ThrottledFailures } from '../throttled-failures.js';

const portOption = (name: string, what: string) =>
  new Option(`--${name}-port <port>`, `port of the ${what} endpoint (default: any free port)`).argParser((value) => {
    const port = Number(value);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new UsageError(`--${name}-port: not a port: ${value}`);
    return port;
  });

/** `tributary up`: the long-running local stack. */
export function registerUp(program: Command): void {
  program
    .command('up')
    .description(
      'Start the local stack: DynamoDB with Streams, the FHIR store, the pipes and the export schedule. Ctrl-C flushes and stops.',
    )
    .addOption(dirOption())
    .addOption(configOption())
    .addOption(portOption('dynamodb', 'DynamoDB'))
    .addOption(portOption('fhir', 'FHIR/HealthLake'))
    .option('--poll-ms <ms>', 'how often the pipes poll their streams', positiveInt('--poll-ms'), 1000)
    .option(
      '--export-every <minutes>',
      "export schedule (default: the config's export.scheduleMinutes, 15)",
      positiveNumber('--export-every'),
    )
    .option('--no-export-schedule', 'do not run exports on a schedule (run them with `tributary sync`)')
    .action(
      async (options: {
        dir: string;
        config?: string;
        dynamodbPort?: number;
        fhirPort?: number;
        pollMs: number;
        exportEvery?: number;
        exportSchedule: boolean;
      }) => {
        const { config, source } = await loadConfig(options.config);
        // A second `up` on the directory (or any live holder) is refused by the state-dir lock LocalStack.open takes:
        // StateDirBusyError, exit 3. (endpoints.json is not asked: its pid may be a dead up's, reused since.)
        const { LocalStack } = await import('../../local/local-stack.js');
        const { startControlServer } = await import('../../local/control-server.js');
        const { runSyncCycle } = await import('../sync-cycle.js');
        const { flushDueInMs } = await import('../../pipes/change-lake-target.js');
        const stack = await LocalStack.open({
          dir: options.dir,
          config,
          owner: currentOwner('up'),
          attach: false,
          ports: { dynamodb: options.dynamodbPort, fhir: options.fhirPort },
        });
        const quiet = new Progress('up', process.stderr, 0, true);
        // Every use of the pipes (timer polls, `sync` through the control endpoint) runs one at a time on this chain:
        // two concurrent reads of one runner would deliver the same records twice.
        let polling = Promise.resolve();
        const serialised = <T>(work: () => Promise<T>): Promise<T> => {
          const run = polling.then(work);
          polling = run.then(
            () => undefined,
            () => undefined,
          );
          return run;
        };
        let control: Awaited<ReturnType<typeof startControlServer>> | undefined;
        let endpoints: Endpoints;
        try {
          control = await startControlServer({
            sync: (o) => serialised(() => runSyncCycle(stack, { ...o, progress: quiet })),
          });
          endpoints = { ...stack.endpoints, control: control.url, pid: process.pid };
          await writeEndpoints(options.dir, endpoints);
        } catch (error) {
          // Started servers would keep the process alive after the error is reported.
          await control?.close();
          await stack.close();
          throw error;
        }
        process.stdout.write(`tributary up: config ${source}, state ${stack.paths.root}\n`);
        for (const [name, url] of Object.entries(endpoints))
          if (name !== 'pid') process.stdout.write(`  ${name.padEnd(10)} ${url}\n`);
        process.stdout.write(`endpoints written to ${stack.paths.endpoints}; Ctrl-C to stop\n`);
        for (const line of [...startupReport(stack), ...(stack.startup.preparedTables ?? [])])
          process.stderr.write(`up: ${line}\n`);

        // Pipes poll on a timer and whenever a stream gets records; one poll at a time.
        let stopped = false;
        // A pipe that keeps failing (disk full) says so once per minute, not once per poll; rejected records and
        // lease waits are reported by the pipes themselves (one line each, ids and counts only).
        const failures = new ThrottledFailures((line) => process.stderr.write(`up: ${line}\n`));
        // Records buffered by a lake target are flushed by the first poll after their buffer interval: poll again
        // exactly then, not at the next tick (which can be up to --poll-ms later, i.e. ~2× flushSeconds after a write).
        let wake: NodeJS.Timeout | undefined;
        const poll = () => {
          void serialised(async () => {
            if (stopped) return;
            for (const pipe of stack.pipes) {
              try {
                await pipe.poll();
                failures.succeeded(`pipe ${pipe.pipe.name}`);
              } catch (error) {
                // Error messages may quote paths (and so partition values): only busy errors are spelled out.
                const reason = error instanceof PipeBusyError ? error.message : failureType(error);
                failures.failed(`pipe ${pipe.pipe.name}`, reason);
              }
            }
            // Only a flush due later is scheduled; one due now that did not happen (a failing disk) waits for the tick.
            const due = stack.pipes
              .map((pipe) => flushDueInMs(pipe.pipe.target))
              .filter((ms): ms is number => ms !== undefined && ms > 0);
            clearTimeout(wake);
            if (due.length > 0 && !stopped) wake = setTimeout(poll, Math.min(...due) + 1);
          });
        };
        const timer = setInterval(poll, options.pollMs);
        const exportMinutes = options.exportEvery ?? config.export.scheduleMinutes;
        const stopSchedule = options.exportSchedule
          ? stack.exportRuntime?.startSchedule(exportMinutes * 60_000)
          : undefined;
        if (stopSchedule)
          process.stdout.write(
            `FHIR export runs now and every ${exportMinutes} min (or on demand: tributary sync --dir ${options.dir})\n`,
          );
        const unsubscribe = stack.onStreamRecords(() => poll());

        await new Promise<void>((resolve) => {
          const stop = () => resolve();
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
        stopped = true;
        clearInterval(timer);
        clearTimeout(wake);
        stopSchedule?.();
        unsubscribe();
        process.stderr.write('up: flushing and stopping…\n');
        try {
          // No new sync requests; then let the running poll or sync finish.
          await control.close();
          await polling;
          // Deliver what the streams still hold, then flush every buffer before stopping.
          await runSyncCycle(stack, { export: false, progress: quiet });
        } finally {
          await stack.close();
          await clearEndpoints(options.dir);
        }
        process.stderr.write('up: stopped\n');
      },
    );
}
