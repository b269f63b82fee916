import { stringify } from 'lossless-json';
import type { QueryResult } from './types.js';

/** Output formats of `tributary query`. */
export type OutputFormat = 'table' | 'json' | 'csv';

// lossless-json's stringify writes LosslessNumber and bigint values as JSON numbers with every digit.
const json = (value: unknown, indent?: number): string => stringify(value, null, indent) ?? 'null';

const cell = (value: unknown): string =>
  value === null || value === undefined
    ? ''
    : typeof value === 'object' && !('isLosslessNumber' in value)
      ? json(value)
      : String(value);

/**
 * Renders a query result as an aligned text table, a JSON array of row objects, or CSV (RFC 4180).
 * Numbers stay numbers in JSON, exact to the last digit (a 38-digit DECIMAL prints all 38).
 *
 * @example
 * formatResult({ columns: ['n'], rows: [{ n: 1 }] }, 'json') // '[{"n":1}]'
 */
export function formatResult(result: QueryResult, format: OutputFormat, maxWidth = 60): string {
  if (format === 'json') return json(result.rows, 2);
  if (format === 'csv') {
    const escape = (text: string) => (/[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text);
    const lines = [result.columns.map(escape).join(',')];
    for (const row of result.rows) lines.push(result.columns.map((c) => escape(cell(row[c]))).join(','));
    return lines.join('\n');
  }
  const clip = (text: string) => (text.length > maxWidth ? `${text.slice(0, maxWidth - 1)}…` : text);
  const body = result.rows.map((row) => result.columns.map((c) => clip(cell(row[c]))));
  // A fold, not Math.max(...rows): spreading a large result overflows the call stack.
  const widths = result.columns.map((c, i) => body.reduce((width, r) => Math.max(width, r[i]!.length), c.length));
  const line = (cells: string[]) => cells.map((text, i) => text.padEnd(widths[i]!)).join(' │ ');
  const rule = widths.map((w) => '─'.repeat(w)).join('─┼─');
  const count = `(${result.rows.length} row${result.rows.length === 1 ? '' : 's'})`;
  return [line(result.columns), rule, ...body.map(line), count].join('\n');
}
