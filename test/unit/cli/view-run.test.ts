import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../../src/cli/main.js';
import { inProcessCli } from './run-main.js';

const cli = inProcessCli('view-run-');

const ndjson = (resources: unknown[]) => `${resources.map((resource) => JSON.stringify(resource)).join('\n')}\n`;

function writeInput(): string {
  const input = join(cli.root, 'export');
  mkdirSync(join(input, 'Observation'), { recursive: true });
  writeFileSync(
    join(input, 'Observation', 'part-1.ndjson.gz'),
    gzipSync(
      ndjson([
        { resourceType: 'Observation', id: 'o1', status: 'final', valueQuantity: { value: 7.0, unit: 'mmol/L' } },
        { resourceType: 'Observation', id: 'o2', status: 'final', code: { coding: [{ code: 'a' }, { code: 'b' }] } },
      ]),
    ),
  );
  writeFileSync(
    join(input, 'Observation', 'part-2.ndjson'),
    ndjson([{ resourceType: 'Observation', id: 'o3', status: 'amended' }]),
  );
  return input;
}

const obsView = {
  name: 'obs',
  resource: 'Observation',
  select: [
    {
      column: [
        { name: 'id', path: 'getResourceKey()', type: 'id' },
        { name: 'status', path: 'status', type: 'code' },
        { name: 'value', path: 'value.ofType(Quantity).value', type: 'decimal' },
        { name: 'code', path: 'code.coding.code', type: 'code' },
      ],
    },
  ],
};

describe('tributary view run', () => {
  it('prints a JSON array of rows, columns in view order, over a gzip NDJSON directory', async () => {
    const view = join(cli.root, 'obs.json');
    writeFileSync(view, JSON.stringify({ ...obsView, select: [{ column: obsView.select[0]!.column.slice(0, 3) }] }));
    expect(await cli.run('view', 'run', view, '--input', writeInput())).toBe(EXIT.ok);
    const rows = JSON.parse(cli.stdout) as Record<string, unknown>[];
    expect(rows).toEqual([
      { id: 'o1', status: 'final', value: 7 },
      { id: 'o2', status: 'final', value: null },
      { id: 'o3', status: 'amended', value: null },
    ]);
    expect(Object.keys(rows[0]!)).toEqual(['id', 'status', 'value']);
    expect(cli.stderr).toContain('view obs: 3 rows from 3 resources in 2 files, 0 errors');
  });

  it('goes on past a resource with a multi-valued non-collection column, reports it, and exits 4', async () => {
    const view = join(cli.root, 'obs.json');
    writeFileSync(view, JSON.stringify(obsView));
    expect(await cli.run('view', 'run', view, '--input', writeInput())).toBe(EXIT.completedWithErrors);
    expect((JSON.parse(cli.stdout) as { id: string }[]).map((row) => row.id)).toEqual(['o1', 'o3']);
    expect(cli.stderr).toContain('obs: Observation/o2: column code: 2 values for a column that is not a collection');
    expect(cli.stderr).toContain('view obs: 2 rows from 3 resources in 2 files, 1 error');
  });

  it('exits 2 naming the bad element of an invalid view', async () => {
    mkdirSync(join(cli.root, 'views'));
    const view = join(cli.root, 'views', 'obs.json');
    const bad = {
      resource: 'Observation',
      select: [
        {
          column: [
            { name: 'a', path: 'id' },
            { name: 'b', path: 'id' },
            { name: 'c', path: 'foo()' },
          ],
        },
      ],
    };
    writeFileSync(view, JSON.stringify(bad));
    expect(await cli.run('view', 'run', view, '--input', writeInput())).toBe(EXIT.usage);
    expect(cli.stderr).toContain(`${view}: select[0].column[2].path: unknown function 'foo'`);
    expect(cli.stdout).toBe('');
  });

  it('writes CSV and typed Parquet', async () => {
    const view = join(cli.root, 'obs.json');
    writeFileSync(view, JSON.stringify({ ...obsView, select: [{ column: obsView.select[0]!.column.slice(0, 3) }] }));
    expect(await cli.run('view', 'run', view, '--input', writeInput(), '--format', 'csv')).toBe(EXIT.ok);
    expect(cli.stdout).toBe('id,status,value\no1,final,7\no2,final,\no3,amended,\n');
    const output = join(cli.root, 'obs.parquet');
    expect(await cli.run('view', 'run', view, '--input', writeInput(), '--format', 'parquet', '--output', output)).toBe(
      EXIT.ok,
    );
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    const described = await connection.runAndReadAll(`DESCRIBE SELECT * FROM '${output}'`);
    expect(described.getRowObjectsJson().map((row) => `${String(row.column_name)} ${String(row.column_type)}`)).toEqual(
      ['id VARCHAR', 'status VARCHAR', 'value DOUBLE'],
    );
    const count = await connection.runAndReadAll(`SELECT count(*)::INT AS n FROM '${output}'`);
    expect(count.getRowObjectsJson()).toEqual([{ n: 3 }]);
    connection.closeSync();
    instance.closeSync();
  });
});
