import { FhirPathError } from './errors.js';
import { FhirDecimal } from './decimal.js';
import { tokenize, unquote } from './lexer.js';
import type { FhirPathNode, Token } from './types.js';

// Binary operators by precedence, loosest first (FHIRPath §Operator precedence); `is`/`as` are handled apart.
const LEVELS: readonly (readonly string[])[] = [
  ['implies'],
  ['or', 'xor'],
  ['and'],
  ['in', 'contains'],
  ['=', '~', '!=', '!~'],
  ['<', '>', '<=', '>='],
  ['|'],
  ['is', 'as'], // parsed apart: the right side is a type name, not an expression
  ['+', '-', '&'],
  ['*', '/', 'div', 'mod'],
];
const TYPE_LEVEL = 7;

/**
 * Parses a FHIRPath expression into an AST. Throws {@link FhirPathError} on a syntax error.
 *
 * @example
 * parseFhirPath('name.given.first()').kind // 'call'
 */
export function parseFhirPath(source: string): FhirPathNode {
  if (source.trim() === '') throw new FhirPathError('empty expression');
  const parser = new Parser(tokenize(source));
  const node = parser.expression(0);
  parser.expect('eof');
  return node;
}

class Parser {
  private at = 0;

  public constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.at]!;
  }

  private next(): Token {
    return this.tokens[this.at++]!;
  }

  public expect(kind: Token['kind'], text?: string): Token {
    const token = this.next();
    if (token.kind !== kind || (text !== undefined && token.text !== text)) {
      const what = token.kind === 'eof' ? 'end of expression' : `'${token.text}'`;
      throw new FhirPathError(`unexpected ${what} at ${token.pos}${text ? `, expected '${text}'` : ''}`);
    }
    return token;
  }

  private isOperator(token: Token, ops: readonly string[]): boolean {
    return (token.kind === 'op' || token.kind === 'identifier') && ops.includes(token.text);
  }

  public expression(level: number): FhirPathNode {
    if (level === LEVELS.length) return this.unary();
    if (level === TYPE_LEVEL) {
      let left = this.expression(level + 1);
      while (this.isOperator(this.peek(), ['is', 'as'])) {
        const op = this.next();
        left = { kind: 'type', op: op.text as 'is' | 'as', operand: left, typeName: this.typeSpecifier(), pos: op.pos };
      }
      return left;
    }
    let left = this.expression(level + 1);
    while (this.isOperator(this.peek(), LEVELS[level]!)) {
      const op = this.next();
      const right = this.expression(level + 1);
      left = { kind: 'binary', op: op.text, left, right, pos: op.pos };
    }
    return left;
  }

  private typeSpecifier(): string {
    let name = this.identifierText();
    while (this.peek().kind === 'op' && this.peek().text === '.') {
      this.next();
      name += `.${this.identifierText()}`;
    }
    return name;
  }

  private identifierText(): string {
    const token = this.next();
    if (token.kind === 'identifier') return token.text;
    if (token.kind === 'delimited') return unquote(token.text);
    throw new FhirPathError(`expected a name at ${token.pos}`);
  }

  private unary(): FhirPathNode {
    const token = this.peek();
    if (token.kind === 'op' && (token.text === '+' || token.text === '-')) {
      this.next();
      return { kind: 'unary', op: token.text, operand: this.unary(), pos: token.pos };
    }
    return this.postfix(this.term());
  }

  private postfix(node: FhirPathNode): FhirPathNode {
    for (;;) {
      const token = this.peek();
      if (token.kind === 'op' && token.text === '.') {
        this.next();
        node = this.invocation(node);
      } else if (token.kind === 'op' && token.text === '[') {
        this.next();
        const index = this.expression(0);
        this.expect('op', ']');
        node = { kind: 'indexer', target: node, index, pos: token.pos };
      } else return node;
    }
  }

  /** A member or function invocation, on `target` (after a dot) or on `$this` (a term). */
  private invocation(target?: FhirPathNode): FhirPathNode {
    const token = this.next();
    if (token.kind === 'special') {
      if (target) throw new FhirPathError(`unexpected '${token.text}' at ${token.pos}`);
      if (token.text === '$this') return { kind: 'this', pos: token.pos };
      if (token.text === '$index') return { kind: 'index', pos: token.pos };
      throw new FhirPathError(`unknown variable '${token.text}' at ${token.pos}`);
    }
    if (token.kind !== 'identifier' && token.kind !== 'delimited')
      throw new FhirPathError(
        `unexpected ${token.kind === 'eof' ? 'end of expression' : `'${token.text}'`} at ${token.pos}`,
      );
    const name = token.kind === 'delimited' ? unquote(token.text) : token.text;
    const open = this.peek();
    if (token.kind === 'identifier' && open.kind === 'op' && open.text === '(') {
      this.next();
      const args: FhirPathNode[] = [];
      if (!(this.peek().kind === 'op' && this.peek().text === ')')) {
        args.push(this.expression(0));
        while (this.peek().kind === 'op' && this.peek().text === ',') {
          this.next();
          args.push(this.expression(0));
        }
      }
      this.expect('op', ')');
      return { kind: 'call', target, name, args, pos: token.pos };
    }
    return { kind: 'member', target, name, pos: token.pos };
  }

  private term(): FhirPathNode {
    const token = this.peek();
    switch (token.kind) {
      case 'number':
        this.next();
        return {
          kind: 'literal',
          value: [token.text.includes('.') ? decimalLiteral(token.text) : Number(token.text)],
          type: token.text.includes('.') ? 'decimal' : 'integer',
          pos: token.pos,
        };
      case 'string':
        this.next();
        return { kind: 'literal', value: [unquote(token.text)], type: 'string', pos: token.pos };
      case 'datetime': {
        this.next();
        const text = token.text.slice(1);
        const type = text.startsWith('T') ? 'time' : text.includes('T') ? 'dateTime' : 'date';
        return {
          kind: 'literal',
          value: [type === 'time' ? text.slice(1) : text.replace(/T$/, '')],
          type,
          pos: token.pos,
        };
      }
      case 'env':
        this.next();
        return { kind: 'env', name: token.text, pos: token.pos };
      case 'op':
        if (token.text === '(') {
          this.next();
          const inner = this.expression(0);
          this.expect('op', ')');
          return inner;
        }
        if (token.text === '{') {
          this.next();
          this.expect('op', '}');
          return { kind: 'literal', value: [], pos: token.pos };
        }
        throw new FhirPathError(`unexpected '${token.text}' at ${token.pos}`);
      case 'identifier':
        if (token.text === 'true' || token.text === 'false') {
          this.next();
          return { kind: 'literal', value: [token.text === 'true'], type: 'boolean', pos: token.pos };
        }
        return this.invocation();
      default:
        return this.invocation();
    }
  }
}

/** A decimal literal keeps its text when a double would not (`1.0`), for `lowBoundary()` and friends. */
const decimalLiteral = (text: string): number | FhirDecimal =>
  String(Number(text)) === text ? Number(text) : new FhirDecimal(text);
