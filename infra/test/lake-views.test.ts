import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_VIEW_FILES, loadViewFiles } from '../../src/views/lake/load-views.js';
import { LakeCatalog } from '../lib/lake-catalog.js';
import { currentReadSql, decodePrestoView, hiveTypeOf, viewReadSql } from '../lib/lake-views.js';
import { injectedColumnsByTable, injectedPredicateProblems, namedQueries } from './athena-injected-check.js';
import { constructStack } from './construct-helpers.js';
import { resourcesOf } from './template-helpers.js';

type TableInput = {
  Name: string;
  TableType: string;
  Parameters?: Record<string, string>;
  PartitionKeys?: unknown[];
  ViewOriginalText?: string;
  ViewExpandedText?: string;
  StorageDescriptor: {
    Columns: Array<{ Name: string; Type: string }>;
    Location?: unknown;
    SerdeInfo?: { SerializationLibrary?: string };
    InputFormat?: string;
    OutputFormat?: string;
  };
};

const nameType = (columns: Array<{ Name: string; Type: string }>) => columns.map(({ Name, Type }) => ({ Name, Type }));

const HIDDEN = [
  { Name: '_resource_key', Type: 'string' },
  { Name: '_run', Type: 'string' },
  { Name: '_marker', Type: 'boolean' },
  { Name: '_deleted', Type: 'boolean' },
  { Name: '_base', Type: 'boolean' },
];

describe('LakeCatalog: materialised views and current state', () => {
  const views = loadViewFiles(DEFAULT_VIEW_FILES).map(({ name, columns }) => ({ name, columns }));
  let tables: Record<string, TableInput>;
  let template: Template;

  beforeAll(() => {
    const { stack, key, lake, accessLogs } = constructStack();
    new LakeCatalog(stack, 'Catalog', {
      lakeBucket: lake,
      changeTables: [{ name: 'visits', partitionBy: ['siteId', 'year', 'month', 'day'] }],
      fhirTypes: ['Patient'],
      views,
      encryptionKey: key,
      serverAccessLogsBucket: accessLogs,
      databaseName: 'lakedb',
    });
    template = Template.fromStack(stack);
    tables = Object.fromEntries(
      Object.values(resourcesOf(template, 'AWS::Glue::Table')).map((resource) => {
        const input = resource.Properties?.TableInput as TableInput;
        return [input.Name, input];
      }),
    );
  });

  it('catalogues each default view as a Parquet table over views/<name>/, columns typed from the ViewDefinition, then the hidden columns', () => {
    for (const view of ['patient', 'observation', 'condition', 'encounter']) {
      const table = tables[`view_${view}_files`]!;
      expect(table, view).toBeDefined();
      expect(table.TableType).toBe('EXTERNAL_TABLE');
      expect(table.PartitionKeys ?? []).toEqual([]);
      expect(table.Parameters).toMatchObject({ classification: 'parquet' });
      expect(table.StorageDescriptor).toMatchObject({
        InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
        OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
        SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
        Location: { 'Fn::Join': ['', ['s3://', { Ref: expect.any(String) }, `/views/${view}/`]] },
      });
    }
    expect(nameType(tables.view_patient_files!.StorageDescriptor.Columns)).toEqual([
      { Name: 'id', Type: 'string' },
      { Name: 'patient_id', Type: 'string' },
      { Name: 'identifiers', Type: 'array<string>' },
      { Name: 'active', Type: 'boolean' },
      { Name: 'family', Type: 'string' },
      { Name: 'given', Type: 'array<string>' },
      { Name: 'gender', Type: 'string' },
      { Name: 'birth_date', Type: 'string' },
      { Name: 'deceased', Type: 'boolean' },
      { Name: 'deceased_at', Type: 'string' },
      { Name: 'postal_code', Type: 'string' },
      { Name: 'last_updated', Type: 'timestamp' },
      ...HIDDEN,
    ]);
    // Every default view: its columns in definition order, typed by the one mapping, then the hidden columns.
    for (const view of views)
      expect(nameType(tables[`view_${view.name}_files`]!.StorageDescriptor.Columns)).toEqual([
        ...view.columns.map((column) => ({ Name: column.name.toLowerCase(), Type: hiveTypeOf(column) })),
        ...HIDDEN,
      ]);
  });

  it('maps every ViewDefinition type tag to the Hive type of the Parquet column DuckDB writes', () => {
    const type = (tag: string | undefined, collection = false) => hiveTypeOf({ name: 'c', type: tag, collection });
    expect(type('boolean')).toBe('boolean');
    expect(['integer', 'positiveInt', 'unsignedInt'].map((tag) => type(tag))).toEqual(['int', 'int', 'int']);
    expect(type('integer64')).toBe('bigint');
    expect(type('decimal')).toBe('double');
    expect(type('instant')).toBe('timestamp');
    expect(['string', 'code', 'id', 'date', 'dateTime', 'time'].map((tag) => type(tag))).toEqual(
      Array(6).fill('string'),
    );
    expect(type('CodeableConcept')).toBe('string'); // JSON text
    expect(type(undefined)).toBe('string');
    expect(type('integer', true)).toBe('array<int>');
  });

  it('adds view_<name>, an Athena (Presto) view whose SQL applies the merge-on-read rule', () => {
    const view = tables.view_patient!;
    expect(view.TableType).toBe('VIRTUAL_VIEW');
    expect(view.Parameters).toMatchObject({ presto_view: 'true' });
    expect(view.ViewExpandedText).toBe('/* Presto View */');
    expect(view.ViewOriginalText).toMatch(/^\/\* Presto View: [A-Za-z0-9+/=]+ \*\/$/);
    const decoded = decodePrestoView(view.ViewOriginalText!);
    expect(decoded).toMatchObject({ catalog: 'awsdatacatalog', schema: 'lakedb' });
    expect(decoded.columns.slice(0, 3)).toEqual([
      { name: 'id', type: 'varchar' },
      { name: 'patient_id', type: 'varchar' },
      { name: 'identifiers', type: 'array(varchar)' },
    ]);
    expect(decoded.columns.find((column) => column.name === 'last_updated')?.type).toBe('timestamp');
    expect(decoded.columns.map((column) => column.name)).not.toContain('_run');
    // The view's Glue columns are its visible columns, in Hive types.
    expect(view.StorageDescriptor.Columns).toEqual(
      nameType(tables.view_patient_files!.StorageDescriptor.Columns).filter((column) => !column.Name.startsWith('_')),
    );
    expect(decoded.originalSql).toBe(
      viewReadSql(
        'view_patient_files',
        views.find((v) => v.name === 'patient')!.columns.map((column) => column.name),
      ),
    );
    expect(decoded.originalSql).toMatch(/"_run" >= \(SELECT coalesce\(max\("_run"\), ''\) FROM view_patient_files/);
    expect(decoded.originalSql).toMatch(/max\(d\."_run"\) OVER \(PARTITION BY d\."_resource_key"\)/);
    expect(decoded.originalSql).toMatch(/NOT "_marker"/);
  });

  it('catalogues current/<table>/ and adds current_<table> keeping the latest record per key, deletes dropped', () => {
    expect(tables.current_visits_files!.StorageDescriptor).toMatchObject({
      Columns: [
        { Name: '_key', Type: 'string' },
        { Name: 'keys', Type: 'string' },
        { Name: 'item', Type: 'string' },
        { Name: '_deleted', Type: 'boolean' },
        { Name: 'seq', Type: 'string' },
        { Name: 'ts', Type: 'string' },
        { Name: 'eventid', Type: 'string' },
        { Name: '_order', Type: 'string' },
      ],
      Location: { 'Fn::Join': ['', ['s3://', { Ref: expect.any(String) }, '/current/visits/']] },
    });
    const view = tables.current_visits!;
    expect(view.TableType).toBe('VIRTUAL_VIEW');
    const decoded = decodePrestoView(view.ViewOriginalText!);
    expect(decoded.originalSql).toBe(currentReadSql('current_visits_files'));
    expect(decoded.columns.map((column) => column.name)).toEqual(['keys', 'item', 'seq', 'ts', 'eventid']);
  });

  it('adds a named query joining each change table to view_patient on patient_id, valid with injected projection', () => {
    const queries = namedQueries(template);
    const blend = queries.find((query) => /\bview_patient\b/.test(query.sql));
    expect(blend?.sql).toMatch(
      /FROM changes_visits c\s+JOIN view_patient p ON p\.patient_id = json_extract_scalar\(coalesce\(c\.after, c\.before\), '\$\.patientId'\)/,
    );
    const injected = injectedColumnsByTable(template);
    expect(injected.changes_visits).toEqual(['siteid']);
    for (const query of queries) expect(injectedPredicateProblems(query.sql, injected), query.name).toEqual([]);
  });
});

describe('the view SQL, run by DuckDB over rows in the view file layout', () => {
  it('ignores runs before the latest base, keeps each key’s latest run, drops markers (deletes)', async () => {
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      await connection.run(`CREATE TABLE view_x_files AS SELECT * FROM (VALUES
        ('old-only', 'Patient/a', 'r1', false, false, false),
        ('b-base', 'Patient/b', 'r2~base', false, false, true),
        ('c-base', 'Patient/c', 'r2~base', false, false, true),
        ('d-base', 'Patient/d', 'r2~base', false, false, true),
        ('c-new-1', 'Patient/c', 'r3', false, false, false),
        ('c-new-2', 'Patient/c', 'r3', false, false, false),
        (NULL, 'Patient/c', 'r3', true, false, false),
        (NULL, 'Patient/d', 'r3', true, true, false),
        (NULL, 'Patient/e', 'r3', true, false, false)
      ) AS t(value, "_resource_key", "_run", "_marker", "_deleted", "_base")`);
      const reader = await connection.runAndReadAll(`${viewReadSql('view_x_files', ['value'])} ORDER BY 1`);
      expect(reader.getRows().map((row) => row[0])).toEqual(['b-base', 'c-new-1', 'c-new-2']);

      // Rows of deltas written before `_order` existed (NULL) order by seq; with `_order`, the source time comes first:
      // k3: a stream change after the snapshot wins; k4: a delete after the snapshot wins; k5: the snapshot wins over
      // an older stream record; k6: at the same time, the stream record wins over the snapshot read.
      await connection.run(`CREATE TABLE current_y_files AS SELECT * FROM (VALUES
        ('{"k":1}', '{"k":1}', '{"v":1}', false, '9', 't1', 'e1', NULL),
        ('{"k":1}', '{"k":1}', '{"v":2}', false, '10', 't2', 'e2', NULL),
        ('{"k":2}', '{"k":2}', '{"v":3}', false, '5', 't1', 'e3', NULL),
        ('{"k":2}', '{"k":2}', NULL, true, '6', 't2', 'e4', NULL),
        ('{"k":3}', '{"k":3}', '{"v":"snap"}', false, NULL, 't5', 's3', '2024-01-01T00:00:05.000Z|0|'),
        ('{"k":3}', '{"k":3}', '{"v":"after"}', false, '20', 't6', 'e5', '2024-01-01T00:00:06.000Z|2|20'),
        ('{"k":4}', '{"k":4}', '{"v":"snap"}', false, NULL, 't5', 's4', '2024-01-01T00:00:05.000Z|0|'),
        ('{"k":4}', '{"k":4}', NULL, true, '21', 't6', 'e6', '2024-01-01T00:00:06.000Z|2|21'),
        ('{"k":5}', '{"k":5}', '{"v":"snap"}', false, NULL, 't5', 's5', '2024-01-01T00:00:05.000Z|0|'),
        ('{"k":5}', '{"k":5}', '{"v":"old"}', false, '99', 't4', 'e7', '2024-01-01T00:00:04.000Z|2|99'),
        ('{"k":6}', '{"k":6}', '{"v":"snap"}', false, NULL, 't5', 's6', '2024-01-01T00:00:05.000Z|0|'),
        ('{"k":6}', '{"k":6}', '{"v":"same"}', false, '22', 't5', 'e8', '2024-01-01T00:00:05.000Z|2|22')
      ) AS t("_key", keys, item, "_deleted", seq, ts, eventid, "_order")`);
      const current = await connection.runAndReadAll(`${currentReadSql('current_y_files')} ORDER BY keys`);
      expect(current.getRows()).toEqual([
        ['{"k":1}', '{"v":2}', '10', 't2', 'e2'],
        ['{"k":3}', '{"v":"after"}', '20', 't6', 'e5'],
        ['{"k":5}', '{"v":"snap"}', null, 't5', 's5'],
        ['{"k":6}', '{"v":"same"}', '22', 't5', 'e8'],
      ]);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });
});
