import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { materialiseCurrentState } from '../../../src/lake/current-state.js';
import { DirectoryObjectStore } from '../../../src/local/object-store/directory-object-store.js';
import { LakeQuery } from '../../../src/query/lake-query.js';
import { testLake, type TestLake } from '../query/lake-fixture.js';

interface Change {
  op: 'c' | 'u' | 'd';
  table: string;
  keys: { id: string };
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  eventId: string;
  seq: string;
  ts: string;
}

/** A deterministic sequence of creates, updates and deletes over a few keys (seq grows across digit counts). */
function changes(count: number): Change[] {
  const out: Change[] = [];
  const items = new Map<string, Record<string, unknown>>();
  for (let i = 0; i < count; i++) {
    const id = `k${(i * 7) % 11}`;
    const previous = items.get(id) ?? null;
    const op = previous === null ? 'c' : i % 5 === 0 ? 'd' : 'u';
    const after = op === 'd' ? null : { id, n: i, patientId: `p${i % 3}` };
    if (after) items.set(id, after);
    else items.delete(id);
    out.push({
      op,
      table: 'visits',
      keys: { id },
      before: previous,
      after,
      eventId: `e${i}`,
      seq: String(9 * 10 ** (i % 4 === 0 ? 3 : 4) + i * 97), // mixed lengths: text order would be wrong
      ts: `2024-03-01T10:00:${String(i % 60).padStart(2, '0')}Z`,
    });
  }
  return out.sort((a, b) => Number(a.seq) - Number(b.seq));
}

function expected(records: Change[]): Array<{ id: string; item: unknown }> {
  const latest = new Map<string, Change>();
  for (const record of records) {
    const previous = latest.get(record.keys.id);
    if (!previous || Number(record.seq) > Number(previous.seq)) latest.set(record.keys.id, record);
  }
  return [...latest.values()]
    .filter((r) => r.op !== 'd')
    .map((r) => ({ id: r.keys.id, item: r.after }))
    .sort((a, b) => (a.id < b.id ? -1 : 1));
}

describe('current_<table>', () => {
  let lake: TestLake;
  beforeEach(() => {
    lake = testLake();
  });
  afterEach(() => lake.remove());

  const current = async () => {
    const query = await LakeQuery.open(lake.dir);
    try {
      const { rows } = await query.run(`select keys.id as id, item from current_visits order by id`);
      return rows.map((row) => ({ id: row.id, item: row.item }));
    } finally {
      await query.close();
    }
  };

  it('is the latest image per key by seq with deletes applied, incremental over flushes and idempotent', async () => {
    const store = new DirectoryObjectStore(lake.dir);
    const records = changes(60);
    const seen: Change[] = [];
    // Three flushes, each landing one or two change files; the last one replays records of the first.
    const flushes = [records.slice(0, 20), records.slice(20, 45), records.slice(45)];
    for (const [i, batch] of flushes.entries()) {
      lake.put(`changes/visits/year=2024/month=03/day=01/${i}-a.ndjson.gz`, batch.slice(0, 10));
      lake.put(`changes/visits/year=2024/month=03/day=0${i + 2}/${i}-b.ndjson.gz`, batch.slice(10));
      if (i === 2) lake.put(`changes/visits/year=2024/month=03/day=01/replay.ndjson.gz`, flushes[0]!.slice(5, 15));
      seen.push(...batch);
      const update = await materialiseCurrentState({ store, table: 'visits' });
      expect(update.files).toBe(i === 2 ? 3 : 2);
      expect(await current()).toEqual(expected(seen));
    }
    // Nothing new: nothing written, same answer.
    const files = readdirSync(join(lake.dir, 'current', 'visits'), { recursive: true }).sort();
    expect(await materialiseCurrentState({ store, table: 'visits' })).toEqual({ table: 'visits', files: 0, keys: 0 });
    expect(readdirSync(join(lake.dir, 'current', 'visits'), { recursive: true }).sort()).toEqual(files);
    expect(await current()).toEqual(expected(records));
    expect(expected(records).length).toBeGreaterThan(3);
    expect(expected(records).length).toBeLessThan(11); // some keys are deleted at the end
  });
});
