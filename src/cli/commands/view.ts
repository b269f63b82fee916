import { createWriteStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { once } from 'node:events';
import type { Command } from 'commander';
import { Option } from 'commander';
import { compileView } from '../../views/compile-view.js';
import { ViewDefinitionError } from '../../views/errors.js';
import { runView } from '../../views/evaluate.js';
import { parseJsonPreservingDecimals } from '../../views/fhirpath/decimal.js';
import { writeParquet } from '../../views/parquet.js';
import { ndjsonFiles, readResources } from '../../views/read-resources.js';
import { RowTextWriter } from '../../views/row-text.js';
import type { CompiledView, Row } from '../../views/types.js';
import { UsageError } from '../errors.js';
import { EXIT } from '../options.js';

interface ViewRunOptions {
  input: string;
  format: 'json' | 'csv' | 'parquet';
  output?: string;
}

/**
 * `tributary view run VIEW.json --input …`: evaluates a SQL-on-FHIR v2 ViewDefinition over NDJSON resources with
 * the lake's engine and writes the rows. An invalid view exits 2 naming the element; a resource that cannot be
 * turned into rows is reported on stderr and the run goes on (exit 4 when any was).
 */
export function registerView(program: Command): void {
  const view = program.command('view').description('SQL-on-FHIR v2 ViewDefinitions');
  view
    .command('run')
    .description('Evaluate a ViewDefinition over NDJSON resources (gzip or not) and write its rows.')
    .argument('<view>', 'ViewDefinition JSON file')
    .requiredOption('-i, --input <path>', 'an NDJSON file, or a directory of *.ndjson / *.ndjson.gz files')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['json', 'csv', 'parquet']).default('json'))
    .option('-o, --output <file>', 'write to this file (default: stdout; required for parquet)')
    .action(async (file: string, options: ViewRunOptions) => {
      process.exitCode = await runViewCommand(file, options);
    });
}

async function loadView(file: string): Promise<CompiledView> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`${file}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  let definition: unknown;
  try {
    definition = parseJsonPreservingDecimals(text);
  } catch (error) {
    throw new UsageError(`${file}: not JSON (${(error as Error).message})`);
  }
  try {
    return compileView(definition, { file });
  } catch (error) {
    if (error instanceof ViewDefinitionError) throw new UsageError(error.message);
    throw error;
  }
}

async function runViewCommand(file: string, options: ViewRunOptions): Promise<number> {
  const view = await loadView(file);
  if (options.format === 'parquet' && !options.output) throw new UsageError('--format parquet needs --output <file>');
  await stat(options.input).catch(() => {
    throw new UsageError(`--input ${options.input}: no such file or directory`);
  });
  const files = await ndjsonFiles(options.input);
  let errors = 0;
  let resources = 0;
  const report = (text: string) => {
    errors += 1;
    process.stderr.write(`${text}\n`);
  };
  const input = readResources(files, {
    onUnreadable: (line) => report(`${view.name}: ${line.file}:${line.line}: ${line.reason}`),
  });
  const counted = (async function* () {
    for await (const resource of input) {
      resources += 1;
      yield resource;
    }
  })();
  const rows = runView(view, counted, {
    onRowError: (error) =>
      report(`${view.name}: ${error.resourceKey}: ${error.column ? `column ${error.column}: ` : ''}${error.reason}`),
  });

  const written =
    options.format === 'parquet'
      ? await writeParquet(view.columns, rows, options.output!)
      : await writeText(view, rows, options);
  process.stderr.write(
    `view ${view.name}: ${written} row${written === 1 ? '' : 's'} from ${resources} resource${resources === 1 ? '' : 's'} ` +
      `in ${files.length} file${files.length === 1 ? '' : 's'}, ${errors} error${errors === 1 ? '' : 's'}\n`,
  );
  return errors > 0 ? EXIT.completedWithErrors : EXIT.ok;
}

async function writeText(view: CompiledView, rows: AsyncIterable<Row>, options: ViewRunOptions): Promise<number> {
  const format = options.format === 'csv' ? 'csv' : 'json';
  const stream = options.output ? createWriteStream(options.output) : undefined;
  const write = stream
    ? async (text: string) => {
        if (!stream.write(text)) await once(stream, 'drain');
      }
    : (text: string) => process.stdout.write(text);
  const writer = new RowTextWriter(format, view.columns, write);
  let count = 0;
  for await (const row of rows) {
    await writer.row(row);
    count += 1;
  }
  await writer.end();
  if (stream) {
    stream.end();
    await once(stream, 'finish');
  }
  return count;
}
