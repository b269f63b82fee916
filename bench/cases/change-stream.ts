/**
 * Change stream hot path: JSON.parse → filter → change record → partition → gzip NDJSON files, over N synthetic stream
 * records, through `landChangeBatch` (what the local pipes run). Anchors: JSON.parse + JSON.stringify alone (the
 * floor), and DuckDB single-threaded building the same envelope from the same records (written to a file first, outside
 * the timed part) into one gzip NDJSON file (DuckDB cannot partition JSON output).
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { compileFilters } from '../../src/event-pattern/compile-filters.js';
import { ErrorSink } from '../../src/lake/error-sink.js';
import { landChangeBatch } from '../../src/lake/land-change-batch.js';
import { PartitionedNdjsonWriter } from '../../src/lake/partitioned-ndjson-writer.js';
import { DirectoryObjectStore } from '../../src/local/object-store/directory-object-store.js';
import { caseArgs, measure } from '../measure.js';
import { streamRecordTexts } from './stream-records.js';

const { variant, n, dir } = caseArgs();
const BATCH = 500; // Firehose's batch limit

/**
 * DynamoDB JSON → plain JSON in SQL, as far as DuckDB goes: S, N (digits kept: cast to JSON, not to a number), BOOL,
 * NULL, SS, NS, B and BS per attribute; M and L stay DynamoDB JSON (a macro cannot recurse). Images are read as JSON
 * and walked by key, so any item shape works.
 */
const DUCKDB_UNMARSHALL = `
CREATE MACRO unm_v(v) AS CASE
  WHEN json_extract(v, '$.S') IS NOT NULL THEN to_json(json_extract_string(v, '$.S'))
  WHEN json_extract(v, '$.N') IS NOT NULL THEN json(json_extract_string(v, '$.N'))
  WHEN json_extract(v, '$.BOOL') IS NOT NULL THEN json_extract(v, '$.BOOL')
  WHEN json_extract(v, '$.NULL') IS NOT NULL THEN 'null'::JSON
  WHEN json_extract(v, '$.SS') IS NOT NULL THEN json_extract(v, '$.SS')
  WHEN json_extract(v, '$.NS') IS NOT NULL THEN json('[' || array_to_string(json_extract_string(v, '$.NS[*]'), ',') || ']')
  WHEN json_extract(v, '$.B') IS NOT NULL THEN json_extract(v, '$.B')
  WHEN json_extract(v, '$.BS') IS NOT NULL THEN json_extract(v, '$.BS')
  ELSE v END;
CREATE MACRO unm(img) AS CASE WHEN img IS NULL THEN NULL ELSE
  to_json(map_from_entries(list_transform(json_keys(img),
    k -> {'key': k, 'value': unm_v(json_extract(img, '$."' || k || '"'))}))) END`;

const ISO = `'%Y-%m-%dT%H:%M:%S.%gZ'`;

function duckdbCopy(file: string, out: string): string {
  return `COPY (SELECT
  CASE eventName WHEN 'INSERT' THEN 'c' WHEN 'MODIFY' THEN 'u' WHEN 'REMOVE' THEN 'd' END AS op,
  'visits' AS "table",
  unm(dynamodb.Keys) AS keys,
  unm(dynamodb.OldImage) AS before,
  CASE WHEN eventName = 'REMOVE' THEN NULL ELSE unm(dynamodb.NewImage) END AS after,
  eventID AS eventId,
  dynamodb.SequenceNumber AS seq,
  strftime(make_timestamp(CAST(json_extract_string(CASE WHEN eventName = 'REMOVE' THEN dynamodb.OldImage
    ELSE dynamodb.NewImage END, '$.createdAtTime.N') AS BIGINT) * 1000), ${ISO}) AS ts,
  {'kind': 'stream', 'seq': dynamodb.SequenceNumber,
   'time': strftime(make_timestamp(CAST(dynamodb.ApproximateCreationDateTime AS BIGINT) * 1000000), ${ISO})} AS source
FROM read_json('${file}', format = 'newline_delimited', columns = {eventID: 'VARCHAR', eventName: 'VARCHAR',
  dynamodb: 'STRUCT(ApproximateCreationDateTime DOUBLE, Keys JSON, NewImage JSON, OldImage JSON, SequenceNumber VARCHAR)'})
WHERE eventName IN ('INSERT', 'MODIFY', 'REMOVE') OR starts_with(json_extract_string(dynamodb.NewImage, '$.siteId.S'), '9'))
TO '${out}' (FORMAT json, COMPRESSION gzip)`;
}

if (variant === 'baseline') {
  await measure({ name: 'change-stream', variant: 'baseline: JSON.parse+stringify', unit: 'records' }, async () => {
    let bytes = 0;
    let out = 0;
    for (const text of streamRecordTexts(n)) {
      bytes += text.length;
      out += JSON.stringify(JSON.parse(text)).length;
    }
    if (out === 0) throw new Error('no output');
    return { items: n, bytes };
  });
} else if (variant === 'duckdb') {
  const root = join(dir, `change-stream-duckdb-${n}`);
  await rm(root, { recursive: true, force: true });
  await mkdir(root, { recursive: true });
  const file = join(root, 'stream-records.ndjson');
  const input = createWriteStream(file);
  for (const text of streamRecordTexts(n)) if (!input.write(`${text}\n`)) await once(input, 'drain');
  input.end();
  await once(input, 'finish');
  const { size } = await stat(file);
  await measure(
    { name: 'change-stream', variant: 'anchor: DuckDB 1 thread read_json → envelope → gzip NDJSON', unit: 'records' },
    async () => {
      // Imported here so that the other variants' peak RSS does not include DuckDB's native library.
      const { DuckDBInstance } = await import('@duckdb/node-api');
      const instance = await DuckDBInstance.create(':memory:');
      const connection = await instance.connect();
      await connection.run('SET threads = 1');
      for (const statement of DUCKDB_UNMARSHALL.split(';')) await connection.run(statement);
      const result = await connection.runAndReadAll(duckdbCopy(file, join(root, 'changes.ndjson.gz')));
      const items = Number(result.getRows()[0]?.[0] ?? 0);
      connection.closeSync();
      instance.closeSync();
      if (items !== n) throw new Error(`expected ${n} records written, got ${items}`);
      return { items, bytes: size };
    },
  );
  await rm(root, { recursive: true, force: true });
} else {
  const root = join(dir, `change-stream-${n}`);
  await rm(root, { recursive: true, force: true });
  const store = new DirectoryObjectStore(root);
  const table = {
    name: 'visits',
    pipe: {
      partitionBy: ['siteId', 'year', 'month', 'day'],
      eventTime: { attribute: 'createdAtTime', unit: 'ms' as const },
    },
  };
  const filters = compileFilters([
    { eventName: ['INSERT', 'MODIFY', 'REMOVE'] },
    { dynamodb: { NewImage: { siteId: { S: [{ prefix: '9' }] } } } },
  ]);
  const writer = new PartitionedNdjsonWriter({ store, maxBytes: 5 * 1024 * 1024, maxTotalBytes: 64 * 1024 * 1024 });
  const errors = new ErrorSink({ store, pipeline: 'bench' });
  await measure(
    {
      name: 'change-stream',
      variant: `landChangeBatch: filter+change record+partition+gzip (n=${n})`,
      unit: 'records',
    },
    async () => {
      let bytes = 0;
      let batch: unknown[] = [];
      const flushBatch = async () => {
        const landed = await landChangeBatch({ records: batch, table, filters, writer, errors });
        if (landed.failed > 0 || landed.writeFailures > 0) throw new Error(`unexpected failures: ${landed.failed}`);
        batch = [];
      };
      for (const text of streamRecordTexts(n)) {
        bytes += text.length;
        batch.push(JSON.parse(text));
        if (batch.length === BATCH) await flushBatch();
      }
      await flushBatch();
      await writer.flush();
      if (writer.stats.records !== n) throw new Error(`expected ${n} records written, got ${writer.stats.records}`);
      return { items: n, bytes };
    },
  );
  await rm(root, { recursive: true, force: true });
}
