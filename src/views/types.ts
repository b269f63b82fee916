import type { Evaluator } from './fhirpath/types.js';

/** A column of a ViewDefinition, in output order. `type` is the FHIR type tag, carried for Parquet/Glue typing. */
export interface ViewColumn {
  name: string;
  type?: string;
  collection: boolean;
  description?: string;
}

/** One output row: column name → value, keys in ViewDefinition column order. */
export type Row = Record<string, unknown>;

/**
 * A resource the view could not turn into rows (e.g. several values for a non-collection column). Carries no
 * values, only where and why: values may be PHI.
 */
export interface RowError {
  view: string;
  resourceKey: string;
  /** The column, or `where[i]`, whose expression failed; absent when the resource itself is unreadable. */
  column?: string;
  reason: string;
}

/** A ViewDefinition compiled into closures: pure, reusable across resources, no I/O. */
export interface CompiledView {
  /** `name` from the definition, else the file's base name. */
  name: string;
  /** The resource type the view reads (`Patient`). */
  resource: string;
  columns: readonly ViewColumn[];
  /**
   * The rows of one resource: none when the resource is of another type or fails `where`. Throws
   * {@link RowEvaluationError} when the resource cannot be turned into rows; no partial rows are returned then.
   */
  rows(resource: unknown): Row[];
}

/** A `constant` of a ViewDefinition after validation. */
export interface ViewConstant {
  name: string;
  /** FHIR type from the `value[x]` key (`valueDate` → `date`). */
  type: string;
  value: unknown;
}

/** A `select` of a ViewDefinition after validation, with the element path of each part for error messages. */
export interface SelectDefinition {
  path: string;
  column: ColumnDefinition[];
  select: SelectDefinition[];
  unionAll: SelectDefinition[];
  forEach?: { expression: string; orNull: boolean; path: string };
  repeat?: { expressions: string[]; path: string };
}

/** A `column` after validation. */
export interface ColumnDefinition extends ViewColumn {
  path: string;
  /** Element path of the column in the definition (`select[0].column[2]`). */
  at: string;
}

/** A ViewDefinition after structural validation (expressions not compiled yet). */
export interface ViewDefinition {
  name?: string;
  resource: string;
  constants: ViewConstant[];
  select: SelectDefinition[];
  where: { path: string; at: string }[];
}

/** A compiled `select`: closures and the number of columns it contributes. */
export interface SelectPlan {
  columns: { name: string; fn: Evaluator; collection: boolean }[];
  selects: SelectPlan[];
  unionAll: SelectPlan[];
  forEach?: Evaluator;
  orNull: boolean;
  repeat?: Evaluator[];
  width: number;
}
