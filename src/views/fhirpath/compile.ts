import { anyChoiceValue, CHOICE_ELEMENTS, choiceKey } from './choice-elements.js';
import { FhirDecimal, toNumber } from './decimal.js';
import { FhirPathError, FhirPathEvaluationError } from './errors.js';
import { functionDef, type FunctionArgs } from './functions.js';
import {
  arithmetic,
  collectionEquals,
  collectionEquivalent,
  compareCollections,
  itemEquals,
  logic,
  toBoolean,
  union,
} from './operators.js';
import { parseFhirPath } from './parser.js';
import { bareTypeName, isOfType } from './type-names.js';
import type { Compiled, CompileOptions, EvalEnv, Evaluator, FhirPathNode } from './types.js';

/**
 * Compiles a FHIRPath expression once into a closure, so evaluating it per resource walks no AST.
 * Throws {@link FhirPathError} for a syntax error, an unknown function or constant, or wrong arguments.
 *
 * @example
 * const { fn } = compileFhirPath("name.where(use = 'official').family");
 * fn([patient], { resource: patient, rowIndex: 0, index: 0 }) // ['Chalmers']
 */
export function compileFhirPath(source: string, options: CompileOptions = {}): Compiled {
  return compileNode(parseFhirPath(source), options);
}

const EMPTY: unknown[] = [];
const identity: Evaluator = (focus) => focus as unknown[];

function compileNode(node: FhirPathNode, options: CompileOptions): Compiled {
  switch (node.kind) {
    case 'literal': {
      const value = node.value as unknown[];
      return { fn: () => value, type: node.type };
    }
    case 'this':
      return { fn: identity };
    case 'index':
      return { fn: (_focus, env) => [env.index] };
    case 'env':
      return compileEnv(node.name, options);
    case 'member':
      return compileMember(node.target, node.name, options);
    case 'call':
      return compileCall(node, options);
    case 'indexer': {
      const target = compileNode(node.target, options).fn;
      const index = compileNode(node.index, options).fn;
      return {
        fn: (focus, env) => {
          const collection = target(focus, env);
          const at = index(focus, env);
          const i = at.length === 1 ? toNumber(at[0]) : undefined;
          return i !== undefined && Number.isInteger(i) && i >= 0 && i < collection.length ? [collection[i]] : EMPTY;
        },
      };
    }
    case 'unary': {
      const operand = compileNode(node.operand, options).fn;
      if (node.op === '+') return { fn: operand };
      return {
        fn: (focus, env) =>
          operand(focus, env).map((value) => {
            if (value instanceof FhirDecimal)
              return new FhirDecimal(value.text.startsWith('-') ? value.text.slice(1) : `-${value.text}`);
            if (typeof value === 'number') return -value;
            throw new FhirPathEvaluationError("unary '-' needs a number");
          }),
      };
    }
    case 'binary':
      return compileBinary(node.op, compileNode(node.left, options).fn, compileNode(node.right, options).fn);
    case 'type': {
      const operand = compileNode(node.operand, options).fn;
      const type = node.typeName;
      if (node.op === 'as')
        return {
          fn: (focus, env) => operand(focus, env).filter((item) => isOfType(item, type)),
          type: bareTypeName(type),
        };
      return {
        fn: (focus, env) => {
          const values = operand(focus, env);
          if (values.length === 0) return EMPTY;
          if (values.length > 1) throw new FhirPathEvaluationError("'is' needs a single value");
          return [isOfType(values[0], type)];
        },
      };
    }
  }
}

function compileEnv(name: string, options: CompileOptions): Compiled {
  if (name === 'rowIndex') return { fn: (_focus, env) => [env.rowIndex], type: 'integer' };
  if (name === 'resource' || name === 'rootResource' || name === 'context')
    return { fn: (_focus, env) => [env.resource] };
  if (name === 'ucum') return { fn: () => ['http://unitsofmeasure.org'], type: 'string' };
  const constant = options.constants?.get(name);
  if (!constant) throw new FhirPathError(`unknown constant '%${name}'`);
  const value = [constant.value];
  return { fn: () => value, type: constant.type };
}

/** Reads `name` from each object of the input; arrays are flattened, as FHIRPath collections are. */
function memberAccess(name: string): (input: readonly unknown[]) => unknown[] {
  const choice = CHOICE_ELEMENTS.has(name);
  // `Patient.name`: a leading type name selects the resource itself when it is of that type.
  const maybeType = /^[A-Z]/.test(name);
  return (input) => {
    const out: unknown[] = [];
    for (const item of input) {
      if (item === null || typeof item !== 'object' || item instanceof FhirDecimal) continue;
      const record = item as Record<string, unknown>;
      let value = record[name];
      if (value === undefined) {
        if (choice) value = anyChoiceValue(record, name);
        else if (maybeType && record.resourceType === name) value = item;
        if (value === undefined) continue;
      }
      if (Array.isArray(value)) {
        for (const element of value) if (element !== null) out.push(element);
      } else if (value !== null) out.push(value);
    }
    return out;
  };
}

function compileMember(targetNode: FhirPathNode | undefined, name: string, options: CompileOptions): Compiled {
  const access = memberAccess(name);
  if (!targetNode) return { fn: (focus) => access(focus) };
  const target = compileNode(targetNode, options).fn;
  return { fn: (focus, env) => access(target(focus, env)) };
}

/** A type specifier argument (`Quantity`, `FHIR.Quantity`) read from its parsed form. */
function typeNameOf(node: FhirPathNode): string {
  if (node.kind === 'member') return node.target ? `${typeNameOf(node.target)}.${node.name}` : node.name;
  throw new FhirPathError(`expected a type name at ${node.pos}`);
}

function compileCall(node: Extract<FhirPathNode, { kind: 'call' }>, options: CompileOptions): Compiled {
  // `value.ofType(Quantity)` on a choice element reads `valueQuantity` directly: JSON alone cannot tell a
  // Quantity from a Range, and the typed key says it, so `ofType` costs one property read.
  if (
    node.name === 'ofType' &&
    node.args.length === 1 &&
    node.target?.kind === 'member' &&
    CHOICE_ELEMENTS.has(node.target.name)
  )
    return compileChoiceOfType(node.target, typeNameOf(node.args[0]!), options);
  const def = functionDef(node.name, node.args.length);
  const target = node.target ? compileNode(node.target, options) : { fn: identity };
  const args: FunctionArgs = {
    count: node.args.length,
    expression: (i) => compileNode(node.args[i]!, options),
    typeName: (i) => typeNameOf(node.args[i]!),
    inputType: target.type,
  };
  const { apply, type } = def.build(args);
  const targetFn = target.fn;
  return { fn: (focus, env) => apply(targetFn(focus, env), focus, env), type };
}

function compileChoiceOfType(
  member: Extract<FhirPathNode, { kind: 'member' }>,
  typeName: string,
  options: CompileOptions,
): Compiled {
  const type = bareTypeName(typeName);
  const typed = memberAccess(choiceKey(member.name, type));
  const plain = memberAccess(member.name);
  const target = member.target ? compileNode(member.target, options).fn : identity;
  return {
    type,
    fn: (focus, env) => {
      const input = target(focus, env);
      const values = typed(input);
      if (values.length > 0) return values;
      // Not a choice here after all (`Quantity.value`): filter the plain element by what its JSON tells.
      let fallback: unknown[] | undefined;
      for (const item of input) {
        const record = item as Record<string, unknown> | null;
        if (record !== null && typeof record === 'object' && record[member.name] !== undefined) {
          fallback = plain(input).filter((value) => isOfType(value, type));
          break;
        }
      }
      return fallback ?? EMPTY;
    },
  };
}

function compileBinary(op: string, left: Evaluator, right: Evaluator): Compiled {
  const both = (combine: (a: unknown[], b: unknown[]) => unknown[]): Compiled => ({
    fn: (focus, env) => combine(left(focus, env), right(focus, env)),
  });
  switch (op) {
    case '=':
      return both(collectionEquals);
    case '!=':
      return both((a, b) => collectionEquals(a, b).map((value) => !value));
    case '~':
      return both(collectionEquivalent);
    case '!~':
      return both((a, b) => collectionEquivalent(a, b).map((value) => !value));
    case '<':
    case '>':
    case '<=':
    case '>=': {
      const test =
        op === '<'
          ? (c: number) => c < 0
          : op === '>'
            ? (c: number) => c > 0
            : op === '<='
              ? (c: number) => c <= 0
              : (c: number) => c >= 0;
      return both((a, b) => {
        const order = compareCollections(a, b);
        return order === undefined ? EMPTY : [test(order)];
      });
    }
    case 'and':
    case 'or':
    case 'xor':
    case 'implies':
      return {
        type: 'boolean',
        fn: (focus, env) => {
          const a = toBoolean(left(focus, env));
          // Short-circuit where the answer is already known: `false and …`, `true or …`.
          if ((op === 'and' && a === false) || (op === 'or' && a === true)) return [a];
          if (op === 'implies' && a === false) return [true];
          const result = logic(op, a, toBoolean(right(focus, env)));
          return result === undefined ? EMPTY : [result];
        },
      };
    case '|':
      return both(union);
    case 'in':
      return both((a, b) => {
        if (a.length === 0) return EMPTY;
        if (a.length > 1) throw new FhirPathEvaluationError("'in' needs a single value on the left");
        return [b.some((item) => itemEquals(item, a[0]))];
      });
    case 'contains':
      return both((a, b) => {
        if (b.length === 0) return EMPTY;
        if (b.length > 1) throw new FhirPathEvaluationError("'contains' needs a single value on the right");
        return [a.some((item) => itemEquals(item, b[0]))];
      });
    default:
      return both((a, b) => arithmetic(op, a, b));
  }
}

export type { EvalEnv };
