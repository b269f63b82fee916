/**
 * `'text'`, a SQL string literal.
 *
 * @example
 * quoteLiteral("it's") // "'it''s'"
 */
export const quoteLiteral = (text: string): string => `'${text.replace(/'/g, "''")}'`;

/**
 * A file path as a SQL string literal, with forward slashes (DuckDB globs and reads them on every platform).
 *
 * @example
 * quotePath('lake\\a.parquet') // "'lake/a.parquet'"
 */
export const quotePath = (path: string): string => quoteLiteral(path.split('\\').join('/'));
