import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { parseConfig } from '../../config/load.js';
import { demoConfig } from '../../config/demo-config.js';
import { writeDemoVisits } from '../../local/demo-visits.js';
import { LocalStack } from '../../local/local-stack.js';
import { LakeQuery } from '../../query/lake-query.js';
import { formatResult } from '../../query/format.js';
import { DEFAULT_STATE_DIR } from '../../local/state-dir.js';
import { Progress } from '../progress.js';
import { runSyncCycle } from '../sync-cycle.js';

/** `tributary demo` (= `npm start`): the main job on embedded defaults, in a fresh state directory. */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('Run the main job on embedded defaults in a fresh state directory: write changes, sync, export, query.')
    .option('-d, --dir <dir>', 'state directory (wiped first)', join(DEFAULT_STATE_DIR, 'demo'))
    .option('--visits <n>', 'visits to insert', (v) => Number(v), 300)
    .action(async (options: { dir: string; visits: number }) => {
      const out = (text = '') => process.stdout.write(`${text}\n`);
      const progress = new Progress('demo');
      await rm(options.dir, { recursive: true, force: true });
      const config = parseConfig(demoConfig, 'demo config');
      const stack = await LocalStack.open({ dir: options.dir, config, owner: `demo:${process.pid}`, attach: false });
      try {
        out(`Tributary demo — state directory ${stack.paths.root}`);
        out(`  dynamodb ${stack.endpoints.dynamodb}`);
        if (stack.endpoints.fhir) out(`  fhir     ${stack.endpoints.fhir}`);
        const workload = await writeDemoVisits(stack.clients.documents, 'visits', { items: options.visits });
        out(`\n1. wrote to DynamoDB table visits through the AWS SDK: ${workload.inserts} inserts, ${workload.updates} updates, ${workload.deletes} deletes`);
        await runSyncCycle(stack, { export: true, progress });
      } finally {
        await stack.close();
      }
      const query = await LakeQuery.open(join(options.dir, 'lake'));
      try {
        const partitions = await query.run(
          `select siteId, year, month, day, count(*) as records from changes_visits group by all order by all limit 12`,
        );
        out(`\n2. partitions written under lake/changes/visits/ (first 12):`);
        out(formatResult(partitions, 'table'));
        const ops = await query.run(`select op, count(*) as changes from changes_visits group by op order by op`);
        out(`\n3. tributary query "select op, count(*) from changes_visits group by op":`);
        out(formatResult(ops, 'table'));
      } finally {
        await query.close();
      }
      out(`\nExplore: npx tributary query --dir ${options.dir} --views`);
    });
}
