export { compileView, type CompileViewOptions } from './compile-view.js';
export { runView, rowsOrError, resourceKey, type RunViewOptions } from './evaluate.js';
export { ViewDefinitionError, RowEvaluationError } from './errors.js';
export { FhirDecimal, parseJsonPreservingDecimals } from './fhirpath/decimal.js';
export type { CompiledView, Row, RowError, ViewColumn } from './types.js';
