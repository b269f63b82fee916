import { InvalidEventPatternError } from './errors.js';

const REGEX_SPECIAL = /[.*+?^${}()|[\]\\/]/;

/**
 * Compiles an EventBridge `wildcard` value to an anchored regular expression, once, at pattern
 * compile time. `*` matches any run of characters (including none); `\*` and `\\` are literal.
 * Consecutive `*` are rejected, as EventBridge does.
 *
 * @example
 * compileWildcard('arn:aws:events:*:event-bus/*', 'EventBusArn[0]').test('arn:aws:events:us-east-1:event-bus/x') // true
 */
export function compileWildcard(wildcard: string, path: string): RegExp {
  let source = '^';
  let previousWasStar = false;
  for (let index = 0; index < wildcard.length; index++) {
    const char = wildcard.charAt(index);
    if (char === '\\') {
      const next = wildcard.charAt(index + 1);
      if (next !== '*' && next !== '\\') {
        throw new InvalidEventPatternError(path, 'wildcard allows "\\" only before "*" or "\\"');
      }
      source += `\\${next}`;
      index++;
      previousWasStar = false;
    } else if (char === '*') {
      if (previousWasStar) throw new InvalidEventPatternError(path, 'wildcard must not contain consecutive "*"');
      source += '[\\s\\S]*';
      previousWasStar = true;
    } else {
      source += REGEX_SPECIAL.test(char) ? `\\${char}` : char;
      previousWasStar = false;
    }
  }
  return new RegExp(`${source}$`, 'u');
}
