/**
 * A small JSONPath implementation covering what the Amazon States Language allows
 * (spec § "Paths" and "Reference Paths"): `$`, `.name`, `['name']`, `[n]`, `[*]`, `.*`, `..name`, unions `[a,b]`,
 * slices `[s:e:step]` and simple filters `[?(@.x op literal)]` / `[?(@.x)]`. Context paths start with `$$`.
 */

type Segment =
  | { kind: 'name'; name: string }
  | { kind: 'index'; index: number }
  | { kind: 'wildcard' }
  | { kind: 'descendant'; name: string | null }
  | { kind: 'union'; keys: Array<string | number> }
  | { kind: 'slice'; start: number | undefined; end: number | undefined; step: number }
  | { kind: 'filter'; path: Segment[]; op: string | null; literal: unknown };

/** A parsed path. `definite` paths select at most one node (they are Reference Paths when only names/indexes). */
export interface ParsedPath {
  source: string;
  /** True for `$$…` (context object) paths. */
  context: boolean;
  segments: Segment[];
  /** Only name/index segments: a Reference Path per the spec. */
  isReference: boolean;
}

/** Malformed path text. */
export class JsonPathSyntaxError extends Error {
  public constructor(path: string, why: string) {
    super(`Invalid JSONPath '${path}': ${why}`);
    this.name = 'JsonPathSyntaxError';
  }
}

const parseCache = new Map<string, ParsedPath>();

/**
 * Parses a JSONPath or a context path (`$$.Execution.Id`).
 *
 * @example
 * parsePath("$.store.book[0]['title']").isReference; // true
 */
export function parsePath(source: string): ParsedPath {
  const cached = parseCache.get(source);
  if (cached) return cached;
  if (!source.startsWith('$')) throw new JsonPathSyntaxError(source, "must start with '$'");
  const context = source.startsWith('$$');
  const segments = parseSegments(source, context ? 2 : 1, source.length);
  const parsed: ParsedPath = {
    source,
    context,
    segments,
    isReference: segments.every((s) => s.kind === 'name' || s.kind === 'index'),
  };
  if (parseCache.size > 5000) parseCache.clear();
  parseCache.set(source, parsed);
  return parsed;
}

function parseSegments(source: string, start: number, end: number): Segment[] {
  const segments: Segment[] = [];
  let pos = start;
  const fail = (why: string): never => {
    throw new JsonPathSyntaxError(source, why);
  };
  const readName = (): string => {
    const begin = pos;
    while (pos < end && source[pos] !== '.' && source[pos] !== '[') pos++;
    if (pos === begin) fail(`empty name at ${begin}`);
    return source.slice(begin, pos).trim();
  };
  while (pos < end) {
    const ch = source[pos];
    if (ch === '.') {
      if (source[pos + 1] === '.') {
        pos += 2;
        if (source[pos] === '*') {
          pos++;
          segments.push({ kind: 'descendant', name: null });
        } else if (source[pos] === '[') {
          segments.push({ kind: 'descendant', name: null });
        } else {
          segments.push({ kind: 'descendant', name: readName() });
        }
      } else {
        pos++;
        if (source[pos] === '*') {
          pos++;
          segments.push({ kind: 'wildcard' });
        } else {
          segments.push({ kind: 'name', name: readName() });
        }
      }
    } else if (ch === '[') {
      const close = findBracketClose(source, pos, end);
      if (close < 0) fail(`unclosed '[' at ${pos}`);
      segments.push(parseBracket(source, source.slice(pos + 1, close).trim(), fail));
      pos = close + 1;
    } else {
      fail(`unexpected '${ch}' at ${pos}`);
    }
  }
  return segments;
}

function findBracketClose(source: string, open: number, end: number): number {
  let depth = 0;
  let quote: string | null = null;
  for (let i = open; i < end; i++) {
    const c = source[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '[') depth++;
    else if (c === ']') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

function parseBracket(source: string, body: string, fail: (why: string) => never): Segment {
  if (body === '*') return { kind: 'wildcard' };
  if (body.startsWith('?(') && body.endsWith(')')) return parseFilter(source, body.slice(2, -1).trim(), fail);
  if (/^-?\d*:-?\d*(:-?\d+)?$/.test(body)) {
    const [s, e, st] = body.split(':');
    const num = (v: string | undefined): number | undefined => (v === undefined || v === '' ? undefined : Number(v));
    const step = num(st) ?? 1;
    if (step === 0) fail('slice step 0');
    return { kind: 'slice', start: num(s), end: num(e), step };
  }
  const parts = splitTopLevel(body, ',').map((p) => p.trim());
  const keys = parts.map((p): string | number => {
    if (/^-?\d+$/.test(p)) return Number(p);
    if ((p.startsWith("'") && p.endsWith("'")) || (p.startsWith('"') && p.endsWith('"'))) {
      return p.slice(1, -1).replace(/\\(.)/g, '$1');
    }
    return fail(`unsupported bracket expression '[${body}]'`);
  });
  if (keys.length === 1) {
    const only = keys[0] as string | number;
    return typeof only === 'number' ? { kind: 'index', index: only } : { kind: 'name', name: only };
  }
  return { kind: 'union', keys };
}

function splitTopLevel(text: string, sep: string): string[] {
  const parts: string[] = [];
  let quote: string | null = null;
  let last = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === sep) {
      parts.push(text.slice(last, i));
      last = i + 1;
    }
  }
  parts.push(text.slice(last));
  return parts;
}

function parseFilter(source: string, expr: string, fail: (why: string) => never): Segment {
  const match = /^@((?:\.[^.\s=!<>[]+|\[[^\]]+\])*)\s*(==|!=|<=|>=|<|>)?\s*(.*)$/.exec(expr);
  if (!match) return fail(`unsupported filter '${expr}'`);
  const path = parseSegments(source, 0, 0).concat(match[1] ? parseSegments(match[1], 0, match[1].length) : []);
  const op = match[2] ?? null;
  const rawLiteral = (match[3] ?? '').trim();
  if (op === null) {
    if (rawLiteral !== '') fail(`unsupported filter '${expr}'`);
    return { kind: 'filter', path, op: null, literal: undefined };
  }
  let literal: unknown;
  if (rawLiteral.startsWith("'") && rawLiteral.endsWith("'")) literal = rawLiteral.slice(1, -1).replace(/\\(.)/g, '$1');
  else {
    try {
      literal = JSON.parse(rawLiteral);
    } catch {
      fail(`unsupported filter literal '${rawLiteral}'`);
    }
  }
  return { kind: 'filter', path, op, literal };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function children(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (isObject(v)) return Object.values(v);
  return [];
}

function normaliseIndex(i: number, length: number): number {
  return i < 0 ? length + i : i;
}

function applySegment(nodes: unknown[], seg: Segment): unknown[] {
  const out: unknown[] = [];
  for (const node of nodes) {
    switch (seg.kind) {
      case 'name':
        if (isObject(node) && Object.hasOwn(node, seg.name)) out.push(node[seg.name]);
        break;
      case 'index':
        if (Array.isArray(node)) {
          const i = normaliseIndex(seg.index, node.length);
          if (i >= 0 && i < node.length) out.push(node[i]);
        }
        break;
      case 'wildcard':
        out.push(...children(node));
        break;
      case 'union':
        for (const key of seg.keys) {
          if (typeof key === 'number' && Array.isArray(node)) {
            const i = normaliseIndex(key, node.length);
            if (i >= 0 && i < node.length) out.push(node[i]);
          } else if (typeof key === 'string' && isObject(node) && Object.hasOwn(node, key)) out.push(node[key]);
        }
        break;
      case 'slice':
        if (Array.isArray(node)) {
          const len = node.length;
          const clamp = (v: number): number => Math.max(0, Math.min(len, normaliseIndex(v, len)));
          if (seg.step > 0) {
            const s = seg.start === undefined ? 0 : clamp(seg.start);
            const e = seg.end === undefined ? len : clamp(seg.end);
            for (let i = s; i < e; i += seg.step) out.push(node[i]);
          } else {
            const s = seg.start === undefined ? len - 1 : Math.min(len - 1, normaliseIndex(seg.start, len));
            const e = seg.end === undefined ? -1 : normaliseIndex(seg.end, len);
            for (let i = s; i > e && i >= 0; i += seg.step) out.push(node[i]);
          }
        }
        break;
      case 'descendant': {
        const visit = (v: unknown): void => {
          if (seg.name === null) out.push(...children(v));
          else if (isObject(v) && Object.hasOwn(v, seg.name)) out.push(v[seg.name]);
          for (const c of children(v)) visit(c);
        };
        visit(node);
        break;
      }
      case 'filter':
        for (const item of children(node)) {
          const found = evaluateSegments(item, seg.path);
          if (seg.op === null) {
            if (found.length > 0) out.push(item);
          } else if (found.length > 0 && compare(found[0], seg.op, seg.literal)) out.push(item);
        }
        break;
    }
  }
  return out;
}

function compare(a: unknown, op: string, b: unknown): boolean {
  switch (op) {
    case '==':
      return JSON.stringify(a) === JSON.stringify(b);
    case '!=':
      return JSON.stringify(a) !== JSON.stringify(b);
    default: {
      if (!((typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string')))
        return false;
      if (op === '<') return a < b;
      if (op === '<=') return a <= b;
      if (op === '>') return a > b;
      return a >= b;
    }
  }
}

function evaluateSegments(root: unknown, segments: Segment[]): unknown[] {
  let nodes: unknown[] = [root];
  for (const seg of segments) {
    nodes = applySegment(nodes, seg);
    if (nodes.length === 0) break;
  }
  return nodes;
}

/**
 * All values a path selects (empty when nothing matches).
 *
 * @example
 * queryAll({ a: [{ b: 1 }, { b: 2 }] }, '$.a[*].b'); // [1, 2]
 */
export function queryAll(root: unknown, path: string): unknown[] {
  return evaluateSegments(root, parsePath(path).segments);
}

/** Outcome of resolving a path the way ASL fields (InputPath, `.$` keys, Variable) do. */
export type PathResult = { found: true; value: unknown } | { found: false };

/**
 * Resolves a path as ASL does: a Reference Path (names and indexes only) yields its single value; any other path
 * yields the array of matches (like the Jayway JSONPath AWS uses). `$$` paths read `context`.
 *
 * @example
 * resolvePath({ x: 1 }, '$.x', {}); // { found: true, value: 1 }
 */
export function resolvePath(input: unknown, path: string, context: unknown): PathResult {
  const parsed = parsePath(path);
  const root = parsed.context ? context : input;
  const nodes = evaluateSegments(root, parsed.segments);
  if (parsed.isReference) return nodes.length === 0 ? { found: false } : { found: true, value: nodes[0] };
  return { found: true, value: nodes };
}

/**
 * Writes `value` into a copy of `input` at a Reference Path (used by ResultPath), creating missing objects.
 * Returns `undefined` when the path cannot be applied (spec: States.ResultPathMatchFailure).
 *
 * @example
 * setAtReferencePath({ a: 1 }, '$.b.c', 2); // { a: 1, b: { c: 2 } }
 */
export function setAtReferencePath(
  input: unknown,
  path: string,
  value: unknown,
): { ok: true; value: unknown } | { ok: false } {
  const parsed = parsePath(path);
  if (parsed.context || !parsed.isReference) return { ok: false };
  if (parsed.segments.length === 0) return { ok: true, value };
  const rootCopy: unknown = input === undefined || input === null ? {} : structuredClone(input);
  if (typeof rootCopy !== 'object' || rootCopy === null) return { ok: false };
  let cursor: unknown = rootCopy;
  for (let i = 0; i < parsed.segments.length; i++) {
    const seg = parsed.segments[i] as Segment;
    const last = i === parsed.segments.length - 1;
    if (seg.kind === 'name') {
      if (!isObject(cursor)) return { ok: false };
      if (last) cursor[seg.name] = value;
      else {
        if (cursor[seg.name] === undefined || cursor[seg.name] === null) cursor[seg.name] = {};
        cursor = cursor[seg.name];
      }
    } else if (seg.kind === 'index') {
      if (!Array.isArray(cursor)) return { ok: false };
      const idx = normaliseIndex(seg.index, cursor.length);
      if (idx < 0 || idx >= cursor.length) return { ok: false };
      if (last) cursor[idx] = value;
      else cursor = cursor[idx];
    }
  }
  return { ok: true, value: rootCopy };
}

/**
 * True when text parses as a JSONPath (or context path).
 *
 * @example
 * isValidPath('$.a[?(@.b == 1)]'); // true
 */
export function isValidPath(text: string): boolean {
  try {
    parsePath(text);
    return true;
  } catch {
    return false;
  }
}
