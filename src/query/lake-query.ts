import { DuckDBInstance, type DuckDBConnection, type DuckDBResultReader } from '@duckdb/node-api';
import { QueryError } from './errors.js';
import { exactValue } from './exact-value.js';
import { createLakeViews, type LakeViewOptions } from './lake-views.js';
import type { LakeView, LakeWarning, QueryResult, Row } from './types.js';

export { QueryError } from './errors.js';
export type { QueryResult, Row } from './types.js';

/**
 * DuckDB over the lake directory, with a view per dataset (see {@link createLakeViews}). Views or files
 * that cannot be read are left out and listed in `warnings`; the rest work.
 *
 * @example
 * const query = await LakeQuery.open('.tributary/lake');
 * for (const w of query.warnings) console.error(`${w.subject}: ${w.reason}`);
 * const { rows } = await query.run('select count(*) as n from changes_visits');
 * await query.close();
 */
export class LakeQuery {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    public readonly views: LakeView[],
    public readonly warnings: LakeWarning[],
  ) {}

  /**
   * Opens DuckDB over the lake. With `sql`, only the views it names are created (the others are listed; see
   * {@link LakeViewOptions}); detected schemas are cached in the lake (see `SchemaCache`).
   *
   * @example
   * const query = await LakeQuery.open('.tributary/lake', { sql: 'select count(*) from fhir_patient' });
   */
  public static async open(lake: string, options: LakeViewOptions = {}): Promise<LakeQuery> {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      const { views, warnings } = await createLakeViews(connection, lake, options);
      return new LakeQuery(instance, connection, views, warnings);
    } catch (error) {
      // The caller gets no handle to close: release DuckDB here.
      connection.closeSync();
      instance.closeSync();
      throw error;
    }
  }

  /**
   * Runs SQL; numbers come back exact (see {@link Row}). Several `;`-separated statements run in order, and the result
   * is the last one's.
   */
  public async run(sql: string): Promise<QueryResult> {
    try {
      const reader = await this.runStatements(sql);
      const columns = reader.columnNames();
      const types = reader.columnTypes();
      const rows = (reader.getRowObjectsJson() as Row[]).map((row) => {
        const out: Row = {};
        columns.forEach((column, i) => (out[column] = exactValue(types[i]!, row[column])));
        return out;
      });
      return { columns, rows };
    } catch (error) {
      const known = this.views.map((v) => v.name).join(', ') || '(none: the lake is empty)';
      throw new QueryError(`${(error as Error).message}\navailable views: ${known}`);
    }
  }

  /**
   * Runs every statement of `sql` in order and reads the last one's result (DuckDB's own multi-statement query
   * returned one of them, not always the last).
   */
  private async runStatements(sql: string): Promise<DuckDBResultReader> {
    // (DuckDB's extractStatements fails with "Error in native callback" on text without a statement.)
    if (/^[\s;]*$/.test(sql)) throw new Error('no SQL statement given');
    const statements = await this.connection.extractStatements(sql);
    if (statements.count === 0) throw new Error('no SQL statement given');
    for (let index = 0; index < statements.count - 1; index += 1) {
      const prepared = await statements.prepare(index);
      try {
        await prepared.run();
      } finally {
        prepared.destroySync();
      }
    }
    const last = await statements.prepare(statements.count - 1);
    try {
      return await last.runAndReadAll();
    } finally {
      last.destroySync();
    }
  }

  public async close(): Promise<void> {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}
