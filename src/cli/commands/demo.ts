import type { Command } from 'commander';
import { DEFAULT_DEMO_DIR, prepareDemoDir } from '../demo-dir.js';
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
    .option(
      '-d, --dir <dir>',
      'state directory: created and marked by the demo, and deleted on its next run (an unmarked one is refused)',
      DEFAULT_DEMO_DIR,
    )
    .option('--visits <n>', 'visits to insert, update and delete', positiveInt('--visits'), 300)
    .option('--patients <n>', 'synthetic patients to seed', positiveInt('--patients'), 25)
    .action(async (options: { dir: string; visits: number; patients: number }) => {
      await prepareDemoDir(options.dir); // before loading the heavy modules: a refusal should be instant
      const { runDemo } = await import('../demo-job.js');
      const ok = await runDemo({
        ...options,
        out: (text = '') => process.stdout.write(`${text}\n`),
        progress: new Progress('demo'),
      });
      if (!ok) process.exitCode = 1;
    });
}
