import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { discoverLakeViews, type LakeView } from './lake-views.js';

/** A row as returned to callers: JSON-safe values. */
export type Row = Record<string, unknown>;

/** The result of a query: column names in order, and rows. */
export interface QueryResult {
  columns: string[];
  rows: Row[];
}

/** Raised when SQL fails; carries DuckDB's message. */
export class QueryError extends Error {
  public override readonly name = 'QueryError';
}

/**
 * DuckDB over the lake directory, with a view per dataset (see {@link discoverLakeViews}).
 *
 * @example
 * const query = await LakeQuery.open('.tributary/lake');
 * const { rows } = await query.run('select count(*) as n from changes_visits');
 * await query.close();
 */
export class LakeQuery {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    public readonly views: LakeView[],
  ) {}

  public static async open(lake: string): Promise<LakeQuery> {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      const views = await discoverLakeViews(lake);
      for (const view of views) {
        try {
          await connection.run(view.sql);
        } catch (error) {
          throw new QueryError(`cannot create view ${view.name}: ${(error as Error).message}`);
        }
      }
      return new LakeQuery(instance, connection, views);
    } catch (error) {
      // The caller gets no handle to close: release DuckDB here.
      connection.closeSync();
      instance.closeSync();
      throw error;
    }
  }

  public async run(sql: string): Promise<QueryResult> {
    try {
      const reader = await this.connection.runAndReadAll(sql);
      return { columns: reader.columnNames(), rows: reader.getRowObjectsJson() as Row[] };
    } catch (error) {
      const known = this.views.map((v) => v.name).join(', ') || '(none: the lake is empty)';
      throw new QueryError(`${(error as Error).message}\navailable views: ${known}`);
    }
  }

  public async close(): Promise<void> {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}
