import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalStack, observation, patient } from './local-stack.js';

describe('local export workflow: incremental runs', () => {
  let stack: LocalStack;
  beforeEach(async () => {
    stack = await LocalStack.start();
  });
  afterEach(async () => {
    await stack.close();
  });

  it('exports only what changed since the watermark, lands tombstones, and the lake holds the right state', async () => {
    await stack.put(patient('p1', 'Alpha'));
    await stack.put(patient('p2', 'Beta'));
    await stack.put(observation('o1', 'p1', 72));
    const runtime = await stack.runtimeWith({ emitEvents: true });
    const first = await runtime.runOnce();
    expect(first.status).toBe('COMPLETED');
    const firstWatermark = (await runtime.ledger.watermark())!.transactionTime;

    await stack.put(patient('p1', 'Alpha-Updated'));
    await stack.put(patient('p3', 'Gamma'));
    await stack.remove('Patient', 'p2');
    const second = await runtime.runOnce();

    expect(second.status).toBe('COMPLETED');
    expect(second.counts.Patient).toEqual({ resources: 2, deleted: 1, errors: 0 });
    expect(second.counts.Observation).toBeUndefined();
    const secondRun = (await runtime.ledger.getRun(second.runId))!;
    expect(secondRun.since).toBe(firstWatermark);
    expect(Date.parse(secondRun.transactionTime!)).toBeGreaterThan(Date.parse(firstWatermark));

    const current = await stack.currentState('Patient');
    expect([...current.keys()].sort()).toEqual(['p1', 'p3']);
    expect((current.get('p1')!.name as Array<{ family: string }>)[0]!.family).toBe('Alpha-Updated');
    // p1 twice (two versions), p2 once + its tombstone, p3 once: nothing lost, nothing doubled.
    const lines = await stack.lakeLines('Patient');
    expect(lines).toHaveLength(5);
    const tombstones = lines.filter((l) => l._tombstone === true);
    expect(tombstones).toEqual([
      {
        resourceType: 'Patient',
        id: 'p2',
        meta: { lastUpdated: secondRun.transactionTime },
        _tombstone: true,
        _deletedAt: secondRun.transactionTime,
      },
    ]);
    expect([...(await stack.currentState('Observation')).keys()]).toEqual(['o1']);

    // FhirResourceChanged events: ids only, one per landed line.
    const changed = stack.bus.events.filter((e) => e.detailType === 'FhirResourceChanged');
    expect(changed).toHaveLength(3 + 3);
    expect(changed.map((e) => JSON.stringify(e.detail))).not.toContain('Alpha');

    // A third run with no changes lands nothing new.
    const third = await runtime.runOnce();
    expect(third.status).toBe('COMPLETED');
    expect(third.counts).toEqual({});
    expect(await stack.lakeLines('Patient')).toHaveLength(5);
    expect((await runtime.listRuns()).map((r) => r.status)).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED']);
  });
});
