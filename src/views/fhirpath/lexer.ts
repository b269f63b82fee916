import { FhirPathError } from './errors.js';
import type { Token } from './types.js';

// Longest first, so `<=` wins over `<`.
const OPERATORS = [
  '!=',
  '!~',
  '<=',
  '>=',
  '.',
  ',',
  '(',
  ')',
  '[',
  ']',
  '{',
  '}',
  '+',
  '-',
  '*',
  '/',
  '&',
  '|',
  '=',
  '~',
  '<',
  '>',
];
const DATE_TIME =
  /^@(\d{4}(-\d{2}(-\d{2})?)?(T(\d{2}(:\d{2}(:\d{2}(\.\d+)?)?)?)?(Z|[+-]\d{2}:\d{2})?)?|T\d{2}(:\d{2}(:\d{2}(\.\d+)?)?)?)/;
const NUMBER = /^\d+(\.\d+)?/;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*/;

/**
 * Splits a FHIRPath expression into tokens. Keywords (`and`, `div`, `true`…) stay identifiers; the parser tells
 * them apart by position, as the grammar does.
 *
 * @example
 * tokenize("name.where(use = 'official')").map((t) => t.text) // ['name', '.', 'where', '(', 'use', '=', "'official'", ')', '']
 */
export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  while (pos < source.length) {
    const c = source[pos]!;
    if (/\s/.test(c)) {
      pos += 1;
      continue;
    }
    if (c === '/' && source[pos + 1] === '/') {
      while (pos < source.length && source[pos] !== '\n') pos += 1;
      continue;
    }
    if (c === '/' && source[pos + 1] === '*') {
      const end = source.indexOf('*/', pos + 2);
      if (end < 0) throw new FhirPathError(`unterminated comment at ${pos}`);
      pos = end + 2;
      continue;
    }
    const rest = source.slice(pos);
    if (c === "'" || c === '`') {
      const text = readQuoted(source, pos, c);
      tokens.push({ kind: c === "'" ? 'string' : 'delimited', text, pos });
      pos += text.length;
      continue;
    }
    if (c === '@') {
      const match = DATE_TIME.exec(rest);
      if (!match || match[0].length === 1) throw new FhirPathError(`invalid date/time literal at ${pos}`);
      tokens.push({ kind: 'datetime', text: match[0], pos });
      pos += match[0].length;
      continue;
    }
    if (c === '%') {
      const next = source[pos + 1];
      if (next === "'" || next === '`') {
        const text = readQuoted(source, pos + 1, next);
        tokens.push({ kind: 'env', text: unquote(text), pos });
        pos += 1 + text.length;
        continue;
      }
      const match = IDENTIFIER.exec(source.slice(pos + 1));
      if (!match) throw new FhirPathError(`expected a name after '%' at ${pos}`);
      tokens.push({ kind: 'env', text: match[0], pos });
      pos += 1 + match[0].length;
      continue;
    }
    if (c === '$') {
      const match = IDENTIFIER.exec(source.slice(pos + 1));
      if (!match) throw new FhirPathError(`expected a name after '$' at ${pos}`);
      tokens.push({ kind: 'special', text: `$${match[0]}`, pos });
      pos += 1 + match[0].length;
      continue;
    }
    const number = NUMBER.exec(rest);
    if (number) {
      tokens.push({ kind: 'number', text: number[0], pos });
      pos += number[0].length;
      continue;
    }
    const identifier = IDENTIFIER.exec(rest);
    if (identifier) {
      tokens.push({ kind: 'identifier', text: identifier[0], pos });
      pos += identifier[0].length;
      continue;
    }
    const op = OPERATORS.find((candidate) => rest.startsWith(candidate));
    if (!op) throw new FhirPathError(`unexpected character '${c}' at ${pos}`);
    tokens.push({ kind: 'op', text: op, pos });
    pos += op.length;
  }
  tokens.push({ kind: 'eof', text: '', pos });
  return tokens;
}

/** The quoted token starting at `start`, quotes included. */
function readQuoted(source: string, start: number, quote: string): string {
  let i = start + 1;
  while (i < source.length && source[i] !== quote) i += source[i] === '\\' ? 2 : 1;
  if (i >= source.length)
    throw new FhirPathError(`unterminated ${quote === "'" ? 'string' : 'identifier'} at ${start}`);
  return source.slice(start, i + 1);
}

const ESCAPES: Readonly<Record<string, string>> = {
  n: '\n',
  r: '\r',
  t: '\t',
  f: '\f',
  '\\': '\\',
  '/': '/',
  "'": "'",
  '"': '"',
  '`': '`',
};

/**
 * The text of a quoted string or delimited identifier, escapes resolved.
 *
 * @example
 * unquote("'it\\'s'") // "it's"
 */
export function unquote(text: string): string {
  return text
    .slice(1, -1)
    .replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_m, escape: string) =>
      escape.length === 5 ? String.fromCharCode(parseInt(escape.slice(1), 16)) : (ESCAPES[escape] ?? escape),
    );
}
