import { compileFhirPath } from './fhirpath/compile.js';
import { decimalOutput, FhirDecimal } from './fhirpath/decimal.js';
import { FhirPathError, FhirPathEvaluationError } from './fhirpath/errors.js';
import type { ConstantValue, EvalEnv, Evaluator } from './fhirpath/types.js';
import { RowEvaluationError, ViewDefinitionError } from './errors.js';
import type { CompiledView, Row, SelectDefinition, SelectPlan, ViewColumn } from './types.js';
import { validateViewDefinition } from './view-definition.js';

/** Options of {@link compileView}. */
export interface CompileViewOptions {
  /** The file the definition came from: prefixes error messages, and names the view when it has no `name`. */
  file?: string;
}

/**
 * Compiles a ViewDefinition (parsed JSON) once into closures; apply `rows(resource)` per resource.
 * Throws {@link ViewDefinitionError} naming the element at fault (`views/obs.json: select[0].column[2].path:
 * unknown function 'foo'`).
 *
 * @example
 * const view = compileView({ resource: 'Patient', select: [{ column: [{ name: 'id', path: 'id' }] }] });
 * view.rows({ resourceType: 'Patient', id: 'p1' }) // [{ id: 'p1' }]
 */
export function compileView(definition: unknown, options: CompileViewOptions = {}): CompiledView {
  const { file } = options;
  const view = validateViewDefinition(definition, file);
  const constants = new Map<string, ConstantValue>(
    view.constants.map((c) => [c.name, { value: c.value, type: c.type }]),
  );
  const compile = (expression: string, at: string): Evaluator => {
    try {
      return compileFhirPath(expression, { constants }).fn;
    } catch (error) {
      if (error instanceof FhirPathError) throw new ViewDefinitionError(at, error.message, file);
      throw error;
    }
  };

  const columns: ViewColumn[] = [];
  const plans = view.select.map((select) => planSelect(select, compile, columns, file));
  const seen = new Map<string, number>();
  columns.forEach((column, i) => {
    if (seen.has(column.name)) throw new ViewDefinitionError('select', `duplicate column name '${column.name}'`, file);
    seen.set(column.name, i);
  });
  const top: SelectPlan = { columns: [], selects: plans, unionAll: [], orNull: false, width: columns.length };
  const wheres = view.where.map((clause) => ({ fn: compile(clause.path, clause.at), at: clause.at }));
  const names = columns.map((column) => column.name);
  const name = view.name ?? baseName(file) ?? view.resource.toLowerCase();

  return {
    name,
    resource: view.resource,
    columns,
    rows(resource: unknown): Row[] {
      if ((resource as { resourceType?: unknown } | null)?.resourceType !== view.resource) return [];
      const env: EvalEnv = { resource, rowIndex: 0, index: 0 };
      const focus = [resource];
      for (const where of wheres) {
        let result: unknown[];
        try {
          result = where.fn(focus, env);
        } catch (error) {
          throw asRowError(error, where.at);
        }
        if (result.length === 0) return [];
        if (result.length > 1 || typeof result[0] !== 'boolean')
          throw new RowEvaluationError(where.at, 'a where path must give one boolean or nothing');
        if (!result[0]) return [];
      }
      const segments = product(top, focus, env);
      const rows: Row[] = new Array<Row>(segments.length);
      for (let r = 0; r < segments.length; r++) {
        const values = segments[r]!;
        const row: Row = {};
        for (let c = 0; c < names.length; c++) row[names[c]!] = values[c];
        rows[r] = row;
      }
      return rows;
    },
  };
}

const baseName = (file: string | undefined) =>
  file
    ?.split(/[\\/]/)
    .pop()
    ?.replace(/\.json$/i, '')
    .replace(/[^A-Za-z0-9_]/g, '_');

function asRowError(error: unknown, column: string): unknown {
  if (error instanceof FhirPathEvaluationError) return new RowEvaluationError(column, error.message);
  return error;
}

/**
 * Compiles one `select` and appends its output columns to `columns` in output order: own columns, then nested
 * selects, then the unionAll branches (whose column lists must be identical, order included).
 */
function planSelect(
  select: SelectDefinition,
  compile: (expression: string, at: string) => Evaluator,
  columns: ViewColumn[],
  file: string | undefined,
): SelectPlan {
  const start = columns.length;
  // Iteration first, so a bad forEach is reported before what it would feed.
  const forEach = select.forEach ? compile(select.forEach.expression, select.forEach.path) : undefined;
  const repeat = select.repeat?.expressions.map((expression, i) => compile(expression, `${select.repeat!.path}[${i}]`));
  if (select.column.length === 0 && select.select.length === 0 && select.unionAll.length === 0)
    throw new ViewDefinitionError(select.path, 'needs a column, select or unionAll', file);
  const own = select.column.map((column) => {
    columns.push({
      name: column.name,
      type: column.type,
      collection: column.collection,
      description: column.description,
    });
    return { name: column.name, fn: compile(column.path, `${column.at}.path`), collection: column.collection };
  });
  const selects = select.select.map((child) => planSelect(child, compile, columns, file));
  const unionAll: SelectPlan[] = [];
  let firstBranch: string[] | undefined;
  select.unionAll.forEach((branch, i) => {
    const branchColumns: ViewColumn[] = [];
    unionAll.push(planSelect(branch, compile, branchColumns, file));
    const names = branchColumns.map((column) => column.name);
    if (!firstBranch) {
      firstBranch = names;
      columns.push(...branchColumns);
    } else if (names.join('\u0000') !== firstBranch.join('\u0000')) {
      throw new ViewDefinitionError(
        `${select.path}.unionAll[${i}]`,
        `columns (${names.join(', ')}) differ from unionAll[0]'s (${firstBranch.join(', ')}); names and order must match`,
        file,
      );
    }
  });
  return {
    columns: own,
    selects,
    unionAll,
    forEach,
    orNull: select.forEach?.orNull ?? false,
    repeat,
    width: columns.length - start,
  };
}

/** A column's value: a list for a collection column; else null, the one value, or a row-level error. */
function columnValue(column: SelectPlan['columns'][number], focus: readonly unknown[], env: EvalEnv): unknown {
  let values: unknown[];
  try {
    values = column.fn(focus, env);
  } catch (error) {
    throw asRowError(error, column.name);
  }
  if (column.collection) return values.map(output);
  if (values.length === 0) return null;
  if (values.length === 1) return output(values[0]);
  throw new RowEvaluationError(column.name, `${values.length} values for a column that is not a collection`);
}

const output = (value: unknown): unknown => (value instanceof FhirDecimal ? decimalOutput(value.text) : value);

/** The nodes a `repeat` visits: depth first, each node before its descendants, paths in order. */
function repeatNodes(paths: readonly Evaluator[], parent: readonly unknown[], env: EvalEnv): unknown[] {
  const out: unknown[] = [];
  const visit = (node: unknown[]) => {
    for (const path of paths)
      for (const child of path(node, env)) {
        out.push(child);
        visit([child]);
      }
  };
  visit(parent as unknown[]);
  return out;
}

/** The row segments (values of this select's columns, in order) for one parent node. */
function evaluateSelect(plan: SelectPlan, parent: readonly unknown[], env: EvalEnv): unknown[][] {
  let foci: readonly unknown[];
  if (plan.forEach) {
    foci = plan.forEach(parent, env);
    if (foci.length === 0) return plan.orNull ? nullRows(plan, env) : [];
  } else if (plan.repeat) {
    foci = repeatNodes(plan.repeat, parent, env);
  } else {
    // No iteration: same node, and %rowIndex stays the enclosing iteration's.
    return product(plan, parent, env);
  }
  const saved = env.rowIndex;
  const out: unknown[][] = [];
  try {
    for (let i = 0; i < foci.length; i++) {
      env.rowIndex = i;
      for (const segment of product(plan, [foci[i]], env)) out.push(segment);
    }
  } finally {
    env.rowIndex = saved;
  }
  return out;
}

/**
 * forEachOrNull over nothing: one row whose columns see an empty focus (so they are null, while `%rowIndex` is 0),
 * or all nulls when a nested iteration would leave no row at all.
 */
function nullRows(plan: SelectPlan, env: EvalEnv): unknown[][] {
  const saved = env.rowIndex;
  env.rowIndex = 0;
  try {
    const rows = product(plan, [], env);
    return rows.length > 0 ? rows : [new Array<unknown>(plan.width).fill(null)];
  } finally {
    env.rowIndex = saved;
  }
}

/** Own columns × each nested select × (the union of the unionAll branches), on one node. */
function product(plan: SelectPlan, node: readonly unknown[], env: EvalEnv): unknown[][] {
  const own = plan.columns.map((column) => columnValue(column, node, env));
  let rows: unknown[][] = [own];
  for (const child of plan.selects) {
    rows = cross(rows, evaluateSelect(child, node, env));
    if (rows.length === 0) return rows;
  }
  if (plan.unionAll.length > 0) {
    const union: unknown[][] = [];
    for (const branch of plan.unionAll) for (const segment of evaluateSelect(branch, node, env)) union.push(segment);
    rows = cross(rows, union);
  }
  return rows;
}

function cross(left: unknown[][], right: unknown[][]): unknown[][] {
  if (right.length === 1) return left.map((row) => row.concat(right[0]!));
  const out: unknown[][] = [];
  for (const a of left) for (const b of right) out.push(a.concat(b));
  return out;
}
