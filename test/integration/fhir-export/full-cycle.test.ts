import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalStack, observation, patient } from './local-stack.js';

describe('local export workflow: full cycle', () => {
  let stack: LocalStack;
  beforeEach(async () => {
    stack = await LocalStack.start();
  });
  afterEach(async () => {
    await stack.close();
  });

  it('exports everything on the first run (no seeding), lands it in the lake and sets the watermark', async () => {
    await stack.put(patient('p1', 'Alpha'));
    await stack.put(patient('p2', 'Beta'));
    await stack.put(observation('o1', 'p1', 72));
    const runtime = await stack.runtimeWith();
    expect(runtime.definitionSource).toMatch(/src\/fhir-export\/workflow\.asl\.json$/);
    const progress: string[] = [];
    const result = await runtime.runOnce({ onProgress: (p) => progress.push(`${p.type}:${p.stateName ?? ''}`) });

    expect(result.error).toBeUndefined();
    expect(result.status).toBe('COMPLETED');
    expect(result.counts.Patient?.resources).toBe(2);
    expect(result.counts.Observation?.resources).toBe(1);
    expect(progress).toContain('TaskScheduled:StartExport');
    expect([...(await stack.currentState('Patient')).keys()].sort()).toEqual(['p1', 'p2']);
    expect([...(await stack.currentState('Observation')).keys()]).toEqual(['o1']);

    const watermark = await runtime.ledger.watermark();
    const run = (await runtime.listRuns())[0]!;
    expect(run.runId).toBe(result.runId);
    expect(run.since).toBeNull();
    expect(watermark?.transactionTime).toBe(run.transactionTime);
    expect(await runtime.ledger.lock()).toBeUndefined();
  });
});
