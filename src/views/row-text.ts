import type { Row, ViewColumn } from './types.js';

/**
 * Writes rows as text in chunks (a JSON array, or CSV with a header), so a large view streams out with flat
 * memory. `write` receives ~64 KiB pieces and is awaited, which gives back-pressure to file and pipe outputs.
 *
 * @example
 * const out = new RowTextWriter('csv', view.columns, (text) => process.stdout.write(text));
 * await out.row({ id: 'p1' }); await out.end();
 */
export class RowTextWriter {
  private buffer = '';
  private count = 0;

  public constructor(
    private readonly format: 'json' | 'csv',
    private readonly columns: readonly ViewColumn[],
    private readonly write: (text: string) => unknown,
  ) {
    this.buffer = format === 'json' ? '[' : `${columns.map((column) => csvField(column.name)).join(',')}\n`;
  }

  public async row(row: Row): Promise<void> {
    if (this.format === 'json') this.buffer += `${this.count === 0 ? '\n' : ',\n'}${JSON.stringify(row)}`;
    else this.buffer += `${this.columns.map((column) => csvValue(row[column.name])).join(',')}\n`;
    this.count += 1;
    if (this.buffer.length >= 65_536) await this.flush();
  }

  public async end(): Promise<void> {
    if (this.format === 'json') this.buffer += this.count === 0 ? ']\n' : '\n]\n';
    await this.flush();
  }

  private async flush(): Promise<void> {
    const text = this.buffer;
    this.buffer = '';
    if (text) await this.write(text);
  }
}

/** A CSV cell: empty for null, JSON for lists and objects, quoted when needed (RFC 4180). */
function csvValue(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return csvField(JSON.stringify(value));
  return csvField(String(value));
}

const csvField = (text: string) => (/[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text);
