import { demoConfig } from '../config/demo-config.js';
import { parseConfig } from '../config/load.js';
import { writeDemoVisits } from '../local/demo-visits.js';
import { resolveLakeDir } from '../local/lake-dir.js';
import { LocalStack } from '../local/local-stack.js';
import { currentOwner } from '../local/process-owner.js';
import { seedPopulation } from '../local/seed-population.js';
import { maskedPatientSummary } from '../patient-enrichment/mask.js';
import type { PatientChange } from '../patient-enrichment/types.js';
import { formatResult } from '../query/format.js';
import { LakeQuery } from '../query/lake-query.js';
import { patientId } from '../synthetic/patient-plan.js';
import type { Progress } from './progress.js';
import { describePipe, runSyncCycle } from './sync-cycle.js';

/**
 * The demo's blend join: visit changes per patient, joined to the materialised `view_patient` on its `patient_id`
 * column (the value of identifier system `urn:tributary:patient-id`), a plain equality.
 */
export const BLEND_JOIN_SQL = `select p.id as patient, p.gender, left(p.birth_date, 4) as birth_year, count(*) as visit_changes
           from changes_visits c
           join view_patient p on p.patient_id = coalesce(c.after.patientId, c.before.patientId)
          group by all order by visit_changes desc, patient limit 5`;

/**
 * The main job: everything Tributary does, on embedded defaults, narrated on stdout.
 * Returns false if the export run failed.
 *
 * @example
 * await runDemo({ dir: '.tributary/demo', visits: 300, patients: 25, out: console.log, progress });
 */
export async function runDemo(options: {
  dir: string;
  visits: number;
  patients: number;
  out: (text?: string) => void;
  progress: Progress;
}): Promise<boolean> {
  const { out, progress } = options;
  const config = parseConfig(demoConfig, 'demo config');
  const stack = await LocalStack.open({ dir: options.dir, config, owner: currentOwner('demo'), attach: false });
  let exportOk = true;
  let sample: PatientChange | undefined;
  try {
    out(`Tributary demo — state directory ${stack.paths.root}`);
    out(`  dynamodb ${stack.endpoints.dynamodb}`);
    out(`  fhir     ${stack.endpoints.fhir}`);

    out(
      `\n1. seeding ${options.patients} synthetic patients into the FHIR store, and their domain records into DynamoDB`,
    );
    const seeded = await seedPopulation(stack, { patients: options.patients, seed: 'demo', dynamodb: true, progress });
    out(
      `   ${seeded.fhir.resources} FHIR resources; ${seeded.dynamodb?.patients} patients and ${seeded.dynamodb?.visits} visits in DynamoDB`,
    );

    const patientIds = Array.from({ length: options.patients }, (_, i) => patientId(i));
    const workload = await writeDemoVisits(stack.clients.documents, 'visits', { items: options.visits, patientIds });
    out(
      `\n2. wrote to DynamoDB table visits through the AWS SDK: ${workload.inserts} inserts, ${workload.updates} updates, ${workload.deletes} deletes`,
    );

    const unsubscribe = stack.bus.subscribe('PatientChange', (event) => {
      sample ??= event.detail as PatientChange;
    });
    out(
      '\n3. sync: pipes drain the streams (visits → lake; patients → FHIR enrichment → bus), then one FHIR export cycle',
    );
    const outcome = await runSyncCycle(stack, { export: true, progress: progress.quietCopy() });
    unsubscribe();
    for (const pipe of outcome.pipes) out(`   ${describePipe(pipe)}`);
    if (outcome.exportRun) {
      const run = outcome.exportRun;
      out(`   export run ${run.runId}: ${run.status}${run.error ? ` — ${run.error}` : ''}`);
      for (const [type, counts] of Object.entries(run.counts ?? {}).sort()) {
        out(
          `     ${type.padEnd(18)} ${String(counts.resources).padStart(5)} resources, ${counts.deleted} deleted, ${counts.errors} errors`,
        );
      }
      exportOk = run.status === 'COMPLETED';
    }
    if (sample) out(`   one enriched event (PHI masked): ${maskedPatientSummary(sample)}`);
  } finally {
    await stack.close();
  }

  const query = await LakeQuery.open(resolveLakeDir(options.dir, config));
  try {
    const show = async (title: string, sql: string) => {
      out(`\n${title}\n   tributary query "${sql.replace(/\s+/g, ' ')}"`);
      out(formatResult(await query.run(sql), 'table'));
    };
    await show(
      '4. partitions written under lake/changes/visits/ (siteId/year/month/day; the busiest months)',
      'select siteId, year, month, count(*) as records from changes_visits group by all order by records desc, siteId, year, month limit 10',
    );
    await show(
      '5. change records by operation',
      'select op, count(*) as changes from changes_visits group by op order by op',
    );
    const views = new Set(query.views.map((v) => v.name));
    if (views.has('view_patient')) {
      await show('6. the two sources joined through the patient view: visit changes per patient', BLEND_JOIN_SQL);
    }
    if (views.has('events'))
      await show(
        '7. events on the bus',
        'select detail_type, count(*) as events from events group by all order by all',
      );
  } finally {
    await query.close();
  }
  out(`\nExplore: npx tributary query --dir ${options.dir} --views`);
  out(`         npx tributary runs --dir ${options.dir}`);
  return exportOk;
}
