/** A token of a FHIRPath expression; `pos` is its 0-based offset, for error messages. */
export interface Token {
  kind: 'number' | 'string' | 'identifier' | 'delimited' | 'datetime' | 'env' | 'special' | 'op' | 'eof';
  text: string;
  pos: number;
}

/** A FHIRPath expression after parsing. Every node keeps its offset for error messages. */
export type FhirPathNode =
  | { kind: 'literal'; value: readonly unknown[]; type?: string; pos: number }
  | { kind: 'this'; pos: number }
  | { kind: 'index'; pos: number }
  | { kind: 'env'; name: string; pos: number }
  | { kind: 'member'; target?: FhirPathNode; name: string; pos: number }
  | { kind: 'call'; target?: FhirPathNode; name: string; args: FhirPathNode[]; pos: number }
  | { kind: 'indexer'; target: FhirPathNode; index: FhirPathNode; pos: number }
  | { kind: 'unary'; op: '+' | '-'; operand: FhirPathNode; pos: number }
  | { kind: 'binary'; op: string; left: FhirPathNode; right: FhirPathNode; pos: number }
  | { kind: 'type'; op: 'is' | 'as'; operand: FhirPathNode; typeName: string; pos: number };

/** What an expression sees besides its input: the resource being viewed, `%rowIndex`, `$index`. */
export interface EvalEnv {
  resource: unknown;
  rowIndex: number;
  index: number;
}

/** A compiled expression: input collection in, output collection out. Collections are plain arrays of JSON values. */
export type Evaluator = (focus: readonly unknown[], env: EvalEnv) => unknown[];

/** A compiled expression, with its FHIR type when known at compile time (from `ofType`, a typed constant or literal). */
export interface Compiled {
  fn: Evaluator;
  type?: string;
}

/** Values `%name` resolves to at compile time (ViewDefinition constants), with their FHIR type. */
export interface ConstantValue {
  value: unknown;
  type: string;
}

/** Compile-time context: the view's constants. */
export interface CompileOptions {
  constants?: ReadonlyMap<string, ConstantValue>;
}
