import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EXIT, main } from '../../../src/cli/main.js';
import { testLake, truncatedGzip, type TestLake } from './lake-fixture.js';

/** Runs the CLI in-process against a state dir whose lake is `<dir>/lake`, capturing its output. */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    const code = await main(['node', 'tributary', ...args]);
    const text = (spy: typeof out) => spy.mock.calls.map(([chunk]) => String(chunk)).join('');
    return { code, stdout: text(out), stderr: text(err) };
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.exitCode = undefined;
  }
}

describe('tributary query and lake check (CLI)', () => {
  let state: TestLake;
  const bad = 'lake/fhir/Patient/year=2024/month=01/day=02/bad.ndjson.gz';
  beforeEach(() => {
    state = testLake();
    state.put('lake/fhir/Patient/year=2024/month=01/day=01/good.ndjson.gz', [
      { resourceType: 'Patient', id: 'p1', meta: { versionId: '1', lastUpdated: '2024-01-01T00:00:00Z' } },
    ]);
    state.putLines('lake/changes/visits/siteId=2/year=2024/month=01/day=01/a.ndjson.gz', [
      '{"op":"c","table":"visits","keys":{"id":"a"},"before":null,"after":{"id":"a","amount":12345678901234567890123456789012345678,"n":9007199254740993,"small":42},"eventId":"e1","seq":"1","ts":"2024-01-01T00:00:00.000Z"}',
    ]);
  });
  afterEach(() => state.remove());

  it('--format json prints exact numbers as JSON numbers and strings as strings', async () => {
    const result = await cli([
      'query',
      '--dir',
      state.dir,
      '--format',
      'json',
      `select count(*) over () as n, after.n as big, after.small as small, CAST(after.amount AS DECIMAL(38,0)) as amount,
              CAST(after.amount AS HUGEINT) as huge, 1.50::DECIMAL(4,2) as price, 'x' as s, after.amount as amount_text
         from changes_visits`,
    ]);
    expect(result.code, result.stderr).toBe(EXIT.ok);
    const big = '12345678901234567890123456789012345678';
    expect(result.stdout.replace(/\s+/g, '')).toBe(
      `[{"n":1,"big":9007199254740993,"small":42,"amount":${big},"huge":${big},"price":1.50,"s":"x","amount_text":"${big}"}]`,
    );
  });

  it('select 42 and --views work with a truncated file; a warning names it', async () => {
    state.putBytes(
      bad,
      truncatedGzip([
        { resourceType: 'Patient', id: 'p2' },
        { resourceType: 'Patient', id: 'p3' },
      ]),
    );
    const result = await cli(['query', '--dir', state.dir, 'select 42 as n']);
    expect(result.code, result.stderr).toBe(EXIT.ok);
    expect(result.stdout).toContain('42');
    expect(result.stderr).toContain('fhir/Patient/year=2024/month=01/day=02/bad.ndjson.gz');
    const views = await cli(['query', '--dir', state.dir, '--views']);
    expect(views.stdout.split('\n').map((l) => l.split('\t')[0])).toEqual(
      expect.arrayContaining(['fhir_patient', 'fhir_patient_history', 'changes_visits', 'events', 'errors']),
    );
  });

  it('lake check lists a truncated file (exit 1); --quarantine moves it aside and the lake checks clean', async () => {
    state.putBytes(bad, truncatedGzip([{ resourceType: 'Patient', id: 'p2' }]));
    const check = await cli(['lake', 'check', '--dir', state.dir]);
    expect(check.code).toBe(EXIT.failed);
    expect(check.stdout).toMatch(/^fhir\/Patient\/year=2024\/month=01\/day=02\/bad\.ndjson\.gz\tgzip: /);
    expect(check.stderr).toContain('3 files checked, 1 unreadable');

    const moved = await cli(['lake', 'check', '--dir', state.dir, '--quarantine']);
    expect(moved.code).toBe(EXIT.failed);
    expect(moved.stdout).toContain('moved to _quarantine/fhir/Patient/year=2024/month=01/day=02/bad.ndjson.gz');
    expect(existsSync(join(state.dir, bad))).toBe(false);
    expect(existsSync(join(state.dir, 'lake/_quarantine/fhir/Patient/year=2024/month=01/day=02/bad.ndjson.gz'))).toBe(
      true,
    );

    const again = await cli(['lake', 'check', '--dir', state.dir]);
    expect(again.code).toBe(EXIT.ok);
    expect(again.stderr).toContain('2 files checked, 0 unreadable');
    const query = await cli(['query', '--dir', state.dir, 'select id from fhir_patient']);
    expect(query.stderr).toBe('');
  });

  it('lake check reports malformed JSON in a complete gzip file', async () => {
    state.putLines('lake/events/PatientChange/year=2024/month=01/day=01/e.ndjson.gz', ['{"id":"e1","detail":{']);
    const check = await cli(['lake', 'check', '--dir', state.dir]);
    expect(check.code).toBe(EXIT.failed);
    expect(check.stdout).toMatch(/^events\/PatientChange\/.*e\.ndjson\.gz\t.*Malformed JSON/);
  });
});
