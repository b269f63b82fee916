/**
 * The order of a key's change records in its current state, as one sortable text: `<source time>|<rank>|<seq>`.
 *
 * - The source time comes first, so a change after a snapshot's time wins over the snapshot read, and a delete wins
 *   over a snapshot read from before it.
 * - At the same time a stream record (rank 2) wins over an incremental export's record (1), which wins over a
 *   snapshot read (0): the stream record's image is at least as new as what the snapshot saw at that instant (on AWS
 *   stream times are rounded down to the second, and the backfill exports at a whole second, so this stays true).
 * - Stream records of one key then follow their sequence numbers (left-padded to 40 digits to compare as numbers).
 * - Records written before change records had a `source` have no time: they sort before every record that has one.
 */
const RANK = `CASE json_extract_string(source, '$.kind') WHEN 'snapshot' THEN '0' WHEN 'incremental-export' THEN '1' ELSE '2' END`;
/** Width sequence numbers are left-padded to. */
const SEQ_WIDTH = 40;

/**
 * The order key of a snapshot read at `time` (ISO-8601): the lowest of that instant, so every record at or after it
 * sorts at or above it.
 *
 * @example
 * snapshotOrderKey('2024-03-05T10:00:00.000Z') // '2024-03-05T10:00:00.000Z|0|0000…0'
 */
export function snapshotOrderKey(time: string): string {
  return `${time}|0|${'0'.repeat(SEQ_WIDTH)}`;
}

/**
 * The DuckDB expression of the order key over change records read with `source` as JSON and `seq` as VARCHAR.
 *
 * @example
 * `SELECT … QUALIFY row_number() OVER (PARTITION BY keys::VARCHAR ORDER BY ${changeOrderSql} DESC) = 1`
 */
export const changeOrderSql = `coalesce(json_extract_string(source, '$.time'), '') || '|' || ${RANK} || '|' || lpad(coalesce(seq, ''), ${SEQ_WIDTH}, '0')`;

/**
 * The order key of current-state rows that may predate the `_order` column (SQL both DuckDB and Athena run): such rows
 * sort as records without a time.
 *
 * @example
 * currentOrderSql('f') // `coalesce(f."_order", '|2|' || lpad(f.seq, 40, '0'))`
 */
export function currentOrderSql(alias?: string): string {
  const column = (name: string) => (alias === undefined ? name : `${alias}.${name}`);
  return `coalesce(${column('"_order"')}, '|2|' || lpad(${column('seq')}, ${SEQ_WIDTH}, '0'))`;
}
