import { boundary } from './boundary.js';
import { toNumber } from './decimal.js';
import { FhirPathError, FhirPathEvaluationError } from './errors.js';
import { itemEquals, toBoolean } from './operators.js';
import { bareTypeName, isOfType } from './type-names.js';
import type { Compiled, EvalEnv } from './types.js';

/** A compiled function: its input collection, the focus its arguments are evaluated on, the environment. */
export type FunctionApply = (input: unknown[], focus: readonly unknown[], env: EvalEnv) => unknown[];

/** What a function definition sees at compile time. */
export interface FunctionArgs {
  /** Argument count. */
  count: number;
  /** Compiles argument `i` as an expression. */
  expression(i: number): Compiled;
  /** Reads argument `i` as a type specifier (`Quantity`, `FHIR.Patient`). */
  typeName(i: number): string;
  /** The input's FHIR type, when known at compile time. */
  inputType?: string;
}

interface FunctionDef {
  min: number;
  max: number;
  build(args: FunctionArgs): { apply: FunctionApply; type?: string };
}

/** A lambda argument (`where(criteria)`) applied to one item, with `$this` and `$index` set. */
function perItem(arg: Compiled, item: unknown, index: number, env: EvalEnv): unknown[] {
  const saved = env.index;
  env.index = index;
  try {
    return arg.fn([item], env);
  } finally {
    env.index = saved;
  }
}

/** An argument that must be one value, evaluated once on the function's focus. */
function valueArg(args: FunctionArgs, i: number): (focus: readonly unknown[], env: EvalEnv) => unknown {
  if (i >= args.count) return () => undefined;
  const arg = args.expression(i);
  return (focus, env) => {
    const value = arg.fn(focus, env);
    if (value.length > 1) throw new FhirPathEvaluationError('a function argument has several values');
    return value[0];
  };
}

const strings = (input: unknown[], name: string): string | undefined => {
  if (input.length === 0) return undefined;
  if (input.length > 1) throw new FhirPathEvaluationError(`${name}() needs a single value, got ${input.length}`);
  return typeof input[0] === 'string' ? input[0] : undefined;
};

const stringFunction = (min: number, max: number, body: (text: string, args: unknown[]) => unknown): FunctionDef => ({
  min,
  max,
  build(args) {
    const values = Array.from({ length: args.count }, (_, i) => valueArg(args, i));
    return {
      apply: (input, focus, env) => {
        const text = strings(input, 'string function');
        if (text === undefined) return [];
        const argValues = values.map((value) => value(focus, env));
        if (argValues.some((value) => value === undefined)) return [];
        const result = body(text, argValues);
        return result === undefined ? [] : [result];
      },
    };
  },
});

const boundaryFunction = (side: 'low' | 'high'): FunctionDef => ({
  min: 0,
  max: 1,
  build(args) {
    const precision = valueArg(args, 0);
    const type = args.inputType;
    return {
      type,
      apply: (input, focus, env) => {
        const p = toNumber(precision(focus, env));
        const out: unknown[] = [];
        for (const item of input) {
          const value = boundary(item, side, type, p);
          if (value !== undefined) out.push(value);
        }
        return out;
      },
    };
  },
});

/** A function with one criteria lambda: `pick` gets the input and a test of `criteria` on each item. */
function byCriteria(
  args: FunctionArgs,
  pick: (input: unknown[], matches: (item: unknown, index: number) => boolean) => unknown[],
): { apply: FunctionApply } {
  const criteria = args.expression(0);
  return {
    apply: (input, _focus, env) => pick(input, (item, i) => toBoolean(perItem(criteria, item, i, env)) === true),
  };
}

/** A function of no arguments whose result is part of its input, so of the input's type. */
const sameType = (apply: (input: unknown[]) => unknown[]): FunctionDef => ({
  min: 0,
  max: 0,
  build: (args) => ({ type: args.inputType, apply }),
});

/** `skip(n)` / `take(n)`: a part of the input chosen by a count, an empty or non-number count read as 0. */
const countFunction = (apply: (input: unknown[], n: number) => unknown[]): FunctionDef => ({
  min: 1,
  max: 1,
  build(args) {
    const n = valueArg(args, 0);
    return {
      type: args.inputType,
      apply: (input, focus, env) => apply(input, Math.max(0, toNumber(n(focus, env)) ?? 0)),
    };
  },
});

/** `ofType(T)` / `as(T)`: the input items of type `T`, typed `T`. */
const filterByType: FunctionDef = {
  min: 1,
  max: 1,
  build(args) {
    const type = args.typeName(0);
    return { type: bareTypeName(type), apply: (input) => input.filter((item) => isOfType(item, type)) };
  },
};

// `Type/id` or `Type/id/_history/v`, relative only: an absolute URL or urn may name another server's resource.
const RELATIVE_REFERENCE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

/**
 * The FHIRPath functions the engine knows: the SQL-on-FHIR v2 required subset and the common functions around it.
 * An unknown name is a compile-time error (`unknown function 'foo'`).
 */
export const FUNCTIONS: Readonly<Record<string, FunctionDef>> = {
  empty: { min: 0, max: 0, build: () => ({ apply: (input) => [input.length === 0] }) },
  exists: {
    min: 0,
    max: 1,
    build: (args) =>
      args.count === 0
        ? { apply: (input) => [input.length > 0] }
        : byCriteria(args, (input, matches) => [input.some(matches)]),
  },
  all: { min: 1, max: 1, build: (args) => byCriteria(args, (input, matches) => [input.every(matches)]) },
  where: {
    min: 1,
    max: 1,
    build: (args) => ({ type: args.inputType, ...byCriteria(args, (input, matches) => input.filter(matches)) }),
  },
  select: {
    min: 1,
    max: 1,
    build(args) {
      const projection = args.expression(0);
      return {
        type: projection.type,
        apply: (input, _focus, env) => input.flatMap((item, i) => perItem(projection, item, i, env)),
      };
    },
  },
  iif: {
    min: 2,
    max: 3,
    build(args) {
      const criterion = args.expression(0);
      const whenTrue = args.expression(1);
      const whenFalse = args.count > 2 ? args.expression(2) : undefined;
      return {
        apply: (input, focus, env) => {
          if (input.length > 1) throw new FhirPathEvaluationError('iif() needs at most one input value');
          const scope = input.length === 1 ? input : focus;
          if (toBoolean(criterion.fn(scope, env)) === true) return whenTrue.fn(scope, env);
          return whenFalse ? whenFalse.fn(scope, env) : [];
        },
      };
    },
  },
  first: sameType((input) => input.slice(0, 1)),
  last: sameType((input) => input.slice(-1)),
  tail: sameType((input) => input.slice(1)),
  single: sameType((input) => {
    if (input.length > 1) throw new FhirPathEvaluationError(`single() got ${input.length} values`);
    return input;
  }),
  skip: countFunction((input, n) => input.slice(n)),
  take: countFunction((input, n) => input.slice(0, n)),
  count: { min: 0, max: 0, build: () => ({ apply: (input) => [input.length] }) },
  distinct: {
    min: 0,
    max: 0,
    build: (args) => ({
      type: args.inputType,
      apply: (input) => input.filter((item, i) => input.findIndex((other) => itemEquals(other, item)) === i),
    }),
  },
  hasValue: {
    min: 0,
    max: 0,
    build: () => ({
      apply: (input) => [input.length === 1 && (typeof input[0] !== 'object' || toNumber(input[0]) !== undefined)],
    }),
  },
  not: {
    min: 0,
    max: 0,
    build: () => ({
      apply: (input) => {
        const value = toBoolean(input);
        return value === undefined ? [] : [!value];
      },
    }),
  },
  join: {
    min: 0,
    max: 1,
    build(args) {
      const separator = valueArg(args, 0);
      return {
        // An empty input joins to '' (the suite's expectation), not to empty.
        apply: (input, focus, env) => {
          const sep = separator(focus, env);
          return [input.map(String).join(typeof sep === 'string' ? sep : '')];
        },
      };
    },
  },
  ofType: filterByType,
  is: {
    min: 1,
    max: 1,
    build(args) {
      const type = args.typeName(0);
      return {
        apply: (input) => {
          if (input.length === 0) return [];
          if (input.length > 1) throw new FhirPathEvaluationError(`is() got ${input.length} values`);
          return [isOfType(input[0], type)];
        },
      };
    },
  },
  as: filterByType,
  extension: {
    min: 1,
    max: 1,
    build(args) {
      const url = valueArg(args, 0);
      return {
        apply: (input, focus, env) => {
          const wanted = url(focus, env);
          const out: unknown[] = [];
          for (const item of input) {
            const extensions = (item as { extension?: unknown } | null)?.extension;
            if (!Array.isArray(extensions)) continue;
            for (const extension of extensions)
              if ((extension as { url?: unknown } | null)?.url === wanted) out.push(extension);
          }
          return out;
        },
      };
    },
  },
  getResourceKey: {
    min: 0,
    max: 0,
    build: () => ({
      apply: (input) => {
        const out: unknown[] = [];
        for (const item of input) {
          const resource = item as { resourceType?: unknown; id?: unknown } | null;
          if (typeof resource?.resourceType === 'string' && typeof resource.id === 'string') out.push(resource.id);
        }
        return out;
      },
    }),
  },
  getReferenceKey: {
    min: 0,
    max: 1,
    build(args) {
      const type = args.count > 0 ? bareTypeName(args.typeName(0)) : undefined;
      return {
        apply: (input) => {
          const out: unknown[] = [];
          for (const item of input) {
            const reference = (item as { reference?: unknown } | null)?.reference;
            if (typeof reference !== 'string') continue;
            const match = RELATIVE_REFERENCE.exec(reference);
            if (match && (type === undefined || match[1] === type)) out.push(match[2]);
          }
          return out;
        },
      };
    },
  },
  lowBoundary: boundaryFunction('low'),
  highBoundary: boundaryFunction('high'),
  toString: {
    min: 0,
    max: 0,
    build: () => ({
      apply: (input: unknown[]) => {
        if (input.length === 0) return [];
        if (input.length > 1) throw new FhirPathEvaluationError(`toString() got ${input.length} values`);
        return typeof input[0] === 'object' && toNumber(input[0]) === undefined ? [] : [String(input[0])];
      },
    }),
  },
  startsWith: stringFunction(1, 1, (text, [prefix]) =>
    typeof prefix === 'string' ? text.startsWith(prefix) : undefined,
  ),
  endsWith: stringFunction(1, 1, (text, [suffix]) => (typeof suffix === 'string' ? text.endsWith(suffix) : undefined)),
  contains: stringFunction(1, 1, (text, [part]) => (typeof part === 'string' ? text.includes(part) : undefined)),
  lower: stringFunction(0, 0, (text) => text.toLowerCase()),
  upper: stringFunction(0, 0, (text) => text.toUpperCase()),
  trim: stringFunction(0, 0, (text) => text.trim()),
  length: stringFunction(0, 0, (text) => text.length),
  substring: stringFunction(1, 2, (text, [start, length]) => {
    const from = toNumber(start) ?? 0;
    if (from < 0 || from >= text.length) return undefined;
    return length === undefined ? text.slice(from) : text.slice(from, from + Math.max(0, toNumber(length) ?? 0));
  }),
};

/**
 * The definition of a function, or a compile-time error naming it.
 *
 * @example
 * functionDef('first', 0).min // 0
 */
export function functionDef(name: string, argCount: number): FunctionDef {
  const def = Object.prototype.hasOwnProperty.call(FUNCTIONS, name) ? FUNCTIONS[name] : undefined;
  if (!def) throw new FhirPathError(`unknown function '${name}'`);
  if (argCount < def.min || argCount > def.max) {
    const expected = def.min === def.max ? `${def.min}` : `${def.min} to ${def.max}`;
    throw new FhirPathError(
      `function '${name}' takes ${expected} argument${def.max === 1 ? '' : 's'}, got ${argCount}`,
    );
  }
  return def;
}
