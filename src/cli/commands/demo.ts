import { rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_STATE_DIR } from '../../local/state-dir.js';
import { UsageError } from '../errors.js';
import { positiveInt } from '../option-parsers.js';
import { Progress } from '../progress.js';

/** `tributary demo` (= `npm start`): the main job on embedded defaults, in a fresh state directory. */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'Run the main job on embedded defaults in a fresh state directory: seed FHIR and DynamoDB, write changes ' +
        'through the AWS SDK, run the pipes and one export cycle, and query the lake.',
    )
    .option('-d, --dir <dir>', 'state directory (wiped first)', join(DEFAULT_STATE_DIR, 'demo'))
    .option('--visits <n>', 'visits to insert, update and delete', positiveInt('--visits'), 300)
    .option('--patients <n>', 'synthetic patients to seed', positiveInt('--patients'), 25)
    .action(async (options: { dir: string; visits: number; patients: number }) => {
      const { runDemo } = await import('../demo-job.js');
      refuseToWipe(options.dir);
      await rm(options.dir, { recursive: true, force: true });
      const ok = await runDemo({
        ...options,
        out: (text = '') => process.stdout.write(`${text}\n`),
        progress: new Progress('demo'),
      });
      if (!ok) process.exitCode = 1;
    });
}

/** The demo wipes its state directory: never the working directory, one of its parents, or the home directory. */
function refuseToWipe(dir: string): void {
  const target = resolve(dir);
  const fromTarget = relative(target, process.cwd());
  const containsCwd = !fromTarget.startsWith('..') && !isAbsolute(fromTarget);
  if (containsCwd || target === resolve(homedir()))
    throw new UsageError(`--dir ${dir}: the demo wipes its state directory; choose a dedicated one`);
}
