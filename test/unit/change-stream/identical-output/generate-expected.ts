/**
 * Writes `expected.json.gz`: what the change path produced for {@link streamRecordInputs} at commit c62475b (the
 * envelope with `op: 'r'` and the `source` block), before the direct line writer. Run it in a checkout of that commit:
 *
 *   git worktree add /tmp/cs-old c62475b && ln -s "$PWD/node_modules" /tmp/cs-old/node_modules
 *   (cd /tmp/cs-old && git apply fixes.patch)  # two reference-path fixes made since: see below
 *   cp -r test/unit/change-stream/identical-output /tmp/cs-old/test/unit/change-stream/
 *   (cd /tmp/cs-old && npx tsx test/unit/change-stream/identical-output/generate-expected.ts)
 *   cp /tmp/cs-old/test/unit/change-stream/identical-output/expected.json.gz test/unit/change-stream/identical-output/
 *
 * The fixes applied on top of c62475b (both in the reference path, both bugs in it): an `eventName` such as
 * `constructor` or `__proto__` is not an operation (it landed a line without `op`), and an attribute named
 * `__proto__` is kept (it was dropped). `git diff c62475b -- src/change-stream/change-record.ts
 * src/change-stream/unmarshall.ts` holds them among later changes.
 *
 * Only APIs that existed at that commit are used, so the same script also describes what the test recomputes.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { changeOutcomes, firehoseOutcome, lakeFiles } from './outcomes.js';
import { TABLES, streamRecordInputs } from './inputs.js';

const inputs = streamRecordInputs();
const expected = [];
for (const table of TABLES) {
  expected.push({
    table: table.name,
    outcomes: changeOutcomes(inputs, table),
    lake: await lakeFiles(inputs, table),
    firehose: firehoseOutcome(inputs, table),
  });
}
const out = join(dirname(fileURLToPath(import.meta.url)), 'expected.json.gz');
writeFileSync(out, gzipSync(`${JSON.stringify(expected, null, 1)}\n`, { level: 9 }));
process.stdout.write(`wrote ${out}\n`);
