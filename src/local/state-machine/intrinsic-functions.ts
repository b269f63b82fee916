/**
 * Parser and evaluator for the ASL intrinsic functions (AWS "Intrinsic functions" for JSONPath states):
 * `States.Format('{} {}', $.a, States.UUID())`, with nested calls, `\'` escaped quotes, paths and context paths.
 */
import { createHash, randomInt, randomUUID } from 'node:crypto';
import { StatesRuntimeError } from './errors.js';
import { isValidPath, resolvePath } from './json-path.js';

/** One parsed intrinsic argument. */
export type IntrinsicArgument =
  | { kind: 'string'; value: string; raw: string }
  | { kind: 'number'; value: number }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'null' }
  | { kind: 'path'; path: string }
  | { kind: 'call'; call: IntrinsicCall };

/** One parsed intrinsic call. */
export interface IntrinsicCall {
  name: string;
  args: IntrinsicArgument[];
}

/** Malformed or unsupported intrinsic expression (reported at definition validation). */
export class IntrinsicSyntaxError extends Error {
  public constructor(expression: string, why: string) {
    super(`Invalid intrinsic function '${expression}': ${why}`);
    this.name = 'IntrinsicSyntaxError';
  }
}

/** Arity limits of the supported functions: [min, max]. */
const ARITY: Record<string, [number, number]> = {
  'States.Format': [1, Infinity],
  'States.StringToJson': [1, 1],
  'States.JsonToString': [1, 1],
  'States.Array': [0, Infinity],
  'States.ArrayPartition': [2, 2],
  'States.ArrayContains': [2, 2],
  'States.ArrayRange': [3, 3],
  'States.ArrayGetItem': [2, 2],
  'States.ArrayLength': [1, 1],
  'States.ArrayUnique': [1, 1],
  'States.Base64Encode': [1, 1],
  'States.Base64Decode': [1, 1],
  'States.Hash': [2, 2],
  'States.JsonMerge': [3, 3],
  'States.MathRandom': [2, 3],
  'States.MathAdd': [2, 2],
  'States.StringSplit': [2, 2],
  'States.UUID': [0, 0],
};

/** Names of the intrinsic functions this executor supports. */
export const SUPPORTED_INTRINSICS: readonly string[] = Object.keys(ARITY);

/**
 * True when a `.$` value is an intrinsic call rather than a path.
 *
 * @example
 * looksLikeIntrinsic('States.UUID()'); // true
 */
export function looksLikeIntrinsic(text: string): boolean {
  return /^\s*[A-Za-z][\w.]*\s*\(/.test(text);
}

/**
 * Parses an intrinsic expression, checking function names and arity.
 *
 * @example
 * parseIntrinsic("States.Format('Hi {}', $.name)").args.length; // 2
 */
export function parseIntrinsic(expression: string): IntrinsicCall {
  let pos = 0;
  const text = expression;
  const fail = (why: string): never => {
    throw new IntrinsicSyntaxError(expression, why);
  };
  const skipSpace = (): void => {
    while (pos < text.length && /\s/.test(text[pos] as string)) pos++;
  };
  const parseCall = (): IntrinsicCall => {
    skipSpace();
    const nameMatch = /^[A-Za-z][\w.]*/.exec(text.slice(pos));
    if (!nameMatch) return fail(`expected a function name at ${pos}`);
    const name = nameMatch[0];
    pos += name.length;
    skipSpace();
    if (text[pos] !== '(') fail(`expected '(' after ${name}`);
    pos++;
    const args: IntrinsicArgument[] = [];
    skipSpace();
    if (text[pos] === ')') pos++;
    else {
      for (;;) {
        args.push(parseArgument());
        skipSpace();
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        if (text[pos] === ')') {
          pos++;
          break;
        }
        fail(`expected ',' or ')' at ${pos}`);
      }
    }
    const arity = ARITY[name];
    if (!arity) fail(`unknown intrinsic function '${name}' (supported: ${SUPPORTED_INTRINSICS.join(', ')})`);
    else if (args.length < arity[0] || args.length > arity[1])
      fail(
        `${name} takes ${arity[0] === arity[1] ? arity[0] : `${arity[0]}..${arity[1]}`} arguments, got ${args.length}`,
      );
    return { name, args };
  };
  const parseArgument = (): IntrinsicArgument => {
    skipSpace();
    const c = text[pos];
    if (c === "'") {
      pos++;
      let value = '';
      let raw = '';
      for (;;) {
        if (pos >= text.length) fail('unterminated string literal');
        const ch = text[pos] as string;
        if (ch === '\\') {
          const next = text[pos + 1];
          if (next === undefined) fail('dangling escape');
          value += next;
          raw += ch + next;
          pos += 2;
        } else if (ch === "'") {
          pos++;
          break;
        } else {
          value += ch;
          raw += ch;
          pos++;
        }
      }
      return { kind: 'string', value, raw };
    }
    if (c === '$') {
      const start = pos;
      let depth = 0;
      let quote: string | null = null;
      while (pos < text.length) {
        const ch = text[pos];
        if (quote) {
          if (ch === '\\') pos++;
          else if (ch === quote) quote = null;
        } else if (ch === "'" || ch === '"') quote = ch;
        else if (ch === '[' || ch === '(') depth++;
        else if (ch === ']' || (ch === ')' && depth > 0)) depth--;
        else if (depth === 0 && (ch === ',' || ch === ')')) break;
        pos++;
      }
      const path = text.slice(start, pos).trim();
      if (!isValidPath(path)) fail(`invalid path argument '${path}'`);
      return { kind: 'path', path };
    }
    const numberMatch = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(pos));
    if (numberMatch) {
      pos += numberMatch[0].length;
      return { kind: 'number', value: Number(numberMatch[0]) };
    }
    const wordMatch = /^(true|false|null)\b/.exec(text.slice(pos));
    if (wordMatch) {
      pos += wordMatch[0].length;
      return wordMatch[0] === 'null' ? { kind: 'null' } : { kind: 'boolean', value: wordMatch[0] === 'true' };
    }
    return { kind: 'call', call: parseCall() };
  };
  const call = parseCall();
  skipSpace();
  if (pos !== text.length) fail(`unexpected text after the call at ${pos}`);
  return call;
}

const intrinsicFailure = (fn: string, why: string): StatesRuntimeError =>
  new StatesRuntimeError('States.IntrinsicFailure', `${fn}: ${why}`);

function argValue(arg: IntrinsicArgument, input: unknown, context: unknown): unknown {
  switch (arg.kind) {
    case 'string':
    case 'number':
    case 'boolean':
      return arg.value;
    case 'null':
      return null;
    case 'path': {
      const result = resolvePath(input, arg.path, context);
      if (!result.found)
        throw new StatesRuntimeError('States.Runtime', `The JSONPath '${arg.path}' could not be found in the input`);
      return result.value;
    }
    case 'call':
      return evaluateCall(arg.call, input, context);
  }
}

function formatTemplate(template: IntrinsicArgument, values: unknown[], fn: string): string {
  // The raw text keeps escapes so `\{` / `\}` stay literal braces rather than placeholders.
  const raw =
    template.kind === 'string'
      ? template.raw
      : String(template.kind === 'null' ? 'null' : (template as { value: unknown }).value);
  let out = '';
  let next = 0;
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i];
    if (ch === '\\' && i + 1 < raw.length) {
      out += raw[i + 1];
      i++;
    } else if (ch === '{' && raw[i + 1] === '}') {
      if (next >= values.length) throw intrinsicFailure(fn, 'more placeholders than arguments');
      const v = values[next++];
      if (v !== null && typeof v === 'object')
        throw intrinsicFailure(fn, 'arguments must be strings, numbers, booleans or null');
      out += String(v);
      i++;
    } else out += ch;
  }
  if (next !== values.length) throw intrinsicFailure(fn, 'more arguments than placeholders');
  return out;
}

function requireArray(v: unknown, fn: string): unknown[] {
  if (!Array.isArray(v)) throw intrinsicFailure(fn, 'expected an array argument');
  return v;
}
function requireInteger(v: unknown, fn: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw intrinsicFailure(fn, 'expected an integer argument');
  return v;
}
function requireString(v: unknown, fn: string): string {
  if (typeof v !== 'string') throw intrinsicFailure(fn, 'expected a string argument');
  return v;
}

const HASH_ALGORITHMS: Record<string, string> = {
  MD5: 'md5',
  'SHA-1': 'sha1',
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
  'SHA-512': 'sha512',
};

function evaluateCall(call: IntrinsicCall, input: unknown, context: unknown): unknown {
  const fn = call.name;
  if (fn === 'States.Format') {
    const [template, ...rest] = call.args as [IntrinsicArgument, ...IntrinsicArgument[]];
    let resolvedTemplate = template;
    if (template.kind !== 'string') {
      const v = argValue(template, input, context);
      resolvedTemplate = { kind: 'string', value: requireString(v, fn), raw: requireString(v, fn) };
    }
    return formatTemplate(
      resolvedTemplate,
      rest.map((a) => argValue(a, input, context)),
      fn,
    );
  }
  const a = call.args.map((arg) => argValue(arg, input, context));
  switch (fn) {
    case 'States.StringToJson':
      try {
        return JSON.parse(requireString(a[0], fn));
      } catch (e) {
        if (e instanceof StatesRuntimeError) throw e;
        throw intrinsicFailure(fn, 'argument is not valid JSON');
      }
    case 'States.JsonToString':
      return JSON.stringify(a[0]);
    case 'States.Array':
      return a;
    case 'States.ArrayPartition': {
      const arr = requireArray(a[0], fn);
      const size = requireInteger(a[1], fn);
      if (size <= 0) throw intrinsicFailure(fn, 'chunk size must be positive');
      const out: unknown[][] = [];
      for (let i = 0; i < arr.length; i += size) out.push(arr.slice(i, i + size));
      return out;
    }
    case 'States.ArrayContains': {
      const needle = JSON.stringify(a[1]);
      return requireArray(a[0], fn).some((v) => JSON.stringify(v) === needle);
    }
    case 'States.ArrayRange': {
      const [start, end, step] = [requireInteger(a[0], fn), requireInteger(a[1], fn), requireInteger(a[2], fn)];
      if (step === 0) throw intrinsicFailure(fn, 'step must not be 0');
      const out: number[] = [];
      for (let v = start; step > 0 ? v <= end : v >= end; v += step) {
        out.push(v);
        if (out.length > 1000) throw intrinsicFailure(fn, 'range exceeds 1000 items');
      }
      return out;
    }
    case 'States.ArrayGetItem': {
      const arr = requireArray(a[0], fn);
      const index = requireInteger(a[1], fn);
      if (index < 0 || index >= arr.length) throw intrinsicFailure(fn, `index ${index} out of bounds`);
      return arr[index];
    }
    case 'States.ArrayLength':
      return requireArray(a[0], fn).length;
    case 'States.ArrayUnique': {
      const seen = new Set<string>();
      return requireArray(a[0], fn).filter((v) => {
        const k = JSON.stringify(v);
        if (seen.has(k)) return false;
        seen.add(k);
        return true;
      });
    }
    case 'States.Base64Encode': {
      const s = requireString(a[0], fn);
      if (s.length > 10_000) throw intrinsicFailure(fn, 'input exceeds 10000 characters');
      return Buffer.from(s, 'utf8').toString('base64');
    }
    case 'States.Base64Decode': {
      const s = requireString(a[0], fn);
      if (s.length > 10_000) throw intrinsicFailure(fn, 'input exceeds 10000 characters');
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s)) throw intrinsicFailure(fn, 'input is not base64');
      return Buffer.from(s, 'base64').toString('utf8');
    }
    case 'States.Hash': {
      const algorithm = HASH_ALGORITHMS[requireString(a[1], fn)];
      if (!algorithm) throw intrinsicFailure(fn, `algorithm must be one of ${Object.keys(HASH_ALGORITHMS).join(', ')}`);
      if (a[0] === null || a[0] === undefined) throw intrinsicFailure(fn, 'data must not be null');
      const data = typeof a[0] === 'string' ? a[0] : JSON.stringify(a[0]);
      return createHash(algorithm).update(data, 'utf8').digest('hex');
    }
    case 'States.JsonMerge': {
      const [left, right, deep] = a;
      const isObj = (v: unknown): v is Record<string, unknown> =>
        typeof v === 'object' && v !== null && !Array.isArray(v);
      if (!isObj(left) || !isObj(right)) throw intrinsicFailure(fn, 'both inputs must be JSON objects');
      if (deep !== false) throw intrinsicFailure(fn, 'only shallow merge (false) is supported, as in AWS');
      return { ...left, ...right };
    }
    case 'States.MathRandom': {
      const start = requireInteger(a[0], fn);
      const end = requireInteger(a[1], fn);
      if (end <= start) throw intrinsicFailure(fn, 'end must be greater than start');
      if (a[2] !== undefined) {
        // Seeded: deterministic for a given seed (mulberry32), so workflows can reproduce choices.
        let t = (requireInteger(a[2], fn) + 0x6d2b79f5) | 0;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        const r = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
        return start + Math.floor(r * (end - start));
      }
      return randomInt(start, end);
    }
    case 'States.MathAdd': {
      const x = requireInteger(a[0], fn);
      const y = requireInteger(a[1], fn);
      return x + y;
    }
    case 'States.StringSplit': {
      const s = requireString(a[0], fn);
      const delimiters = new Set(requireString(a[1], fn));
      const out: string[] = [];
      let current = '';
      for (const ch of s) {
        if (delimiters.has(ch)) {
          if (current !== '') out.push(current);
          current = '';
        } else current += ch;
      }
      if (current !== '') out.push(current);
      return out;
    }
    case 'States.UUID':
      return randomUUID();
    default:
      throw intrinsicFailure(fn, 'unsupported function');
  }
}

/**
 * Evaluates an intrinsic expression against the state input and the context object.
 * Failures raise `States.IntrinsicFailure` (a catchable runtime error).
 *
 * @example
 * evaluateIntrinsic("States.MathAdd($.n, 1)", { n: 41 }, {}); // 42
 */
export function evaluateIntrinsic(expression: string, input: unknown, context: unknown): unknown {
  let call: IntrinsicCall;
  try {
    call = parseIntrinsic(expression);
  } catch (e) {
    throw new StatesRuntimeError('States.IntrinsicFailure', (e as Error).message);
  }
  return evaluateCall(call, input, context);
}
