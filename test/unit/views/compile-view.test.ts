import { describe, expect, it } from 'vitest';
import { compileView, runView, ViewDefinitionError, type RowError } from '../../../src/views/index.js';

const view = {
  name: 'obs',
  resource: 'Observation',
  select: [
    {
      column: [
        { name: 'id', path: 'id', type: 'id' },
        { name: 'code', path: 'code.coding.code', type: 'code' },
      ],
    },
  ],
};

describe('compileView', () => {
  it('names the element at fault, prefixed with the file', () => {
    const bad = {
      resource: 'Observation',
      select: [
        {
          column: [
            { name: 'a', path: 'id' },
            { name: 'b', path: 'id' },
            { name: 'c', path: "foo('x')" },
          ],
        },
      ],
    };
    expect(() => compileView(bad, { file: 'views/obs.json' })).toThrow(
      new ViewDefinitionError('select[0].column[2].path', "unknown function 'foo'", 'views/obs.json'),
    );
    expect(() => compileView(bad, { file: 'views/obs.json' })).toThrow(
      "views/obs.json: select[0].column[2].path: unknown function 'foo'",
    );
  });

  it('rejects duplicate columns, typos and mixed iterations', () => {
    const twice = {
      resource: 'Patient',
      select: [{ column: [{ name: 'id', path: 'id' }] }, { column: [{ name: 'id', path: 'id' }] }],
    };
    expect(() => compileView(twice)).toThrow(/duplicate column name 'id'/);
    expect(() => compileView({ resource: 'Patient', select: [{ colum: [] }] })).toThrow(
      'select[0].colum: unknown element',
    );
    expect(() =>
      compileView({
        resource: 'Patient',
        select: [{ forEach: 'name', forEachOrNull: 'name', column: [{ name: 'a', path: 'id' }] }],
      }),
    ).toThrow('select[0].forEachOrNull: cannot be combined with forEach');
  });

  it('exposes columns in output order with their type tags', () => {
    expect(compileView(view).columns).toEqual([
      { name: 'id', type: 'id', collection: false, description: undefined },
      { name: 'code', type: 'code', collection: false, description: undefined },
    ]);
  });
});

describe('runView', () => {
  it('streams rows and reports a multi-valued non-collection column without values, then goes on', async () => {
    const compiled = compileView(view);
    const errors: RowError[] = [];
    const resources = [
      { resourceType: 'Observation', id: 'o1', code: { coding: [{ code: 'secret-1' }, { code: 'secret-2' }] } },
      { resourceType: 'Patient', id: 'p1' },
      { resourceType: 'Observation', id: 'o2', code: { coding: [{ code: 'x' }] } },
    ];
    const rows = [];
    for await (const row of runView(compiled, resources, { onRowError: (error) => errors.push(error) })) rows.push(row);
    expect(rows).toEqual([{ id: 'o2', code: 'x' }]);
    expect(errors).toEqual([
      {
        view: 'obs',
        resourceKey: 'Observation/o1',
        column: 'code',
        reason: '2 values for a column that is not a collection',
      },
    ]);
    expect(JSON.stringify(errors)).not.toContain('secret');
  });
});
