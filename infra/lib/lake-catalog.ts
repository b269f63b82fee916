import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as glue from 'aws-cdk-lib/aws-glue';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { currentKeyOf } from '../../src/lake/current-state.js';
import { lakeLayout, sanitiseSegment } from '../../src/lake/layout.js';
import { viewIdentifier } from '../../src/query/lake-datasets.js';
import {
  CURRENT_FILE_COLUMNS,
  currentColumnsForPresto,
  currentReadSql,
  PARQUET_INPUT_FORMAT,
  PARQUET_OUTPUT_FORMAT,
  PARQUET_SERDE,
  prestoViewInput,
  viewColumnsForPresto,
  viewFileColumns,
  viewReadSql,
  type CatalogView,
} from './lake-views.js';
import { assertAlternatives } from './shared/props.js';
import { SecureBucket } from './shared/secure-bucket.js';

/** JSON SerDe the lake tables use (reads NDJSON, gzip by extension; nested objects as JSON strings). */
export const JSON_SERDE = 'org.openx.data.jsonserde.JsonSerDe';
/** Time partitions the change pipeline and FHIR landing produce, with their projection ranges. */
const TIME_PARTITIONS: Record<string, { min: number; max: number }> = {
  month: { min: 1, max: 12 },
  day: { min: 1, max: 31 },
  hour: { min: 0, max: 23 },
  minute: { min: 0, max: 59 },
};

/** A change table to catalogue. */
export interface CatalogChangeTable {
  /** Config table name; the Glue table is `changes_<name>` (lower-case, `-`/`.` become `_`). */
  readonly name: string;
  /** Partition columns, in path order (the config's `pipe.partitionBy`). */
  readonly partitionBy: readonly string[];
}

/** Props of {@link LakeCatalog}. Every optional prop documents its default. */
export interface LakeCatalogProps {
  /** The lake bucket the tables read. */
  readonly lakeBucket: s3.IBucket;
  /** Change tables (`changes_<table>`). */
  readonly changeTables: readonly CatalogChangeTable[];
  /** Exported FHIR types (`fhir_<type>` lower-case). */
  readonly fhirTypes: readonly string[];
  /**
   * Materialised ViewDefinitions (`views/<name>/`): each gets a Parquet table `view_<name>_files` and the Athena view
   * `view_<name>` applying the merge-on-read rule. A view named `patient` with a `patient_id` column also gets a
   * named query per change table joining it on `patient_id`.
   *
   * @default [] - no view tables
   */
  readonly views?: readonly CatalogView[];
  /** Key for the Athena results bucket and query-result encryption. */
  readonly encryptionKey: kms.IKey;
  /** Server access logs of the new results bucket. */
  readonly serverAccessLogsBucket: s3.IBucket;
  /**
   * Athena results bucket. An alternative to `resultsBucketProps` (an error when both are given).
   *
   * @default - a new SecureBucket (SSE-KMS, TLS only, versioned, access logs) expiring results after `queryResultsRetentionDays`
   */
  readonly existingResultsBucket?: s3.IBucket;
  /**
   * Overrides for the new results bucket. An alternative to `existingResultsBucket`.
   *
   * @default - none: the SecureBucket defaults
   */
  readonly resultsBucketProps?: Partial<s3.BucketProps>;
  /**
   * Glue database name; unique per account and region.
   *
   * @default 'tributary'
   */
  readonly databaseName?: string;
  /**
   * Athena workgroup name; unique per account and region.
   *
   * @default 'tributary'
   */
  readonly workgroupName?: string;
  /**
   * First projected year (the last is 2099).
   *
   * @default 2020
   */
  readonly projectionStartYear?: number;
  /**
   * Known values of attribute partitions (enum projection). Attribute partitions without values are
   * `injected`: every query must filter them by equality, so the named queries take them as `?` parameters.
   *
   * @default {}
   */
  readonly partitionValues?: Readonly<Record<string, readonly string[]>>;
  /**
   * Attribute of change images holding the patient id, joined to `fhir_patient.id`.
   *
   * @default 'patientId'
   */
  readonly patientIdAttribute?: string;
  /**
   * Days query results are kept.
   *
   * @default 30
   */
  readonly queryResultsRetentionDays?: number;
  /**
   * Removal policy of the results bucket.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** Glue table name of a change table. */
export function changeTableName(table: string): string {
  return `changes_${table.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`;
}

/** Glue table name of a FHIR type. */
export function fhirTableName(type: string): string {
  return `fhir_${type.toLowerCase()}`;
}

/** Columns of the change record (SYSTEM.md): images and keys stay JSON strings (use json_extract). */
const CHANGE_COLUMNS: glue.CfnTable.ColumnProperty[] = [
  { name: 'op', type: 'string', comment: 'c | u | d | r (snapshot read)' },
  { name: 'table', type: 'string' },
  { name: 'keys', type: 'string', comment: 'JSON' },
  { name: 'before', type: 'string', comment: 'JSON image before the change' },
  { name: 'after', type: 'string', comment: 'JSON image after the change' },
  { name: 'eventid', type: 'string' },
  { name: 'seq', type: 'string', comment: 'stream sequence number; NULL for snapshot and export records' },
  { name: 'ts', type: 'string', comment: 'ISO-8601 UTC event time' },
  { name: 'ttl', type: 'boolean', comment: 'true for deletes made by TTL' },
  {
    name: 'source',
    type: 'struct<kind:string,seq:string,exportid:string,time:string>',
    comment: 'where the record came from: stream (seq), snapshot or incremental-export (exportid); source time',
  },
];

/** Top-level FHIR elements catalogued per type (nested elements are JSON strings). */
const FHIR_COLUMNS: Record<string, string[]> = {
  Patient: ['identifier', 'active', 'name', 'gender', 'birthdate', 'address', 'deceasedboolean', 'deceaseddatetime'],
  Encounter: ['status', 'class', 'type', 'subject', 'period', 'reasoncode'],
  Observation: [
    'status',
    'category',
    'code',
    'subject',
    'encounter',
    'effectivedatetime',
    'valuequantity',
    'valuecodeableconcept',
    'valuestring',
  ],
  Condition: [
    'clinicalstatus',
    'verificationstatus',
    'category',
    'code',
    'subject',
    'encounter',
    'onsetdatetime',
    'recordeddate',
  ],
  MedicationRequest: [
    'status',
    'intent',
    'medicationcodeableconcept',
    'medicationreference',
    'subject',
    'encounter',
    'authoredon',
    'dosageinstruction',
  ],
};

/**
 * The attribute partitions of a path that Athena projects as `injected` (no time part, no known
 * values), lower-cased as Glue names them. Queries must filter each by static equality.
 *
 * @example
 * injectedColumns(['siteId', 'year'], {}) // ['siteid']
 */
export function injectedColumns(
  partitionBy: readonly string[],
  partitionValues: Readonly<Record<string, readonly string[]>>,
): string[] {
  return partitionBy
    .filter((column) => {
      const name = column.toLowerCase();
      return name !== 'year' && !TIME_PARTITIONS[name] && !partitionValues[column]?.length;
    })
    .map((column) => column.toLowerCase());
}

/**
 * Partition projection parameters for a path of partitions: integer ranges for time parts
 * (zero-padded), enum or injected for attribute partitions, and the storage location template.
 *
 * @example
 * projectionParameters('s3://lake/changes/visits/', ['siteId', 'year'], 2020, {})['projection.siteid.type'] // 'injected'
 */
export function projectionParameters(
  location: string,
  partitionBy: readonly string[],
  startYear: number,
  partitionValues: Readonly<Record<string, readonly string[]>>,
): Record<string, string> {
  const parameters: Record<string, string> = { 'projection.enabled': 'true' };
  for (const column of partitionBy) {
    // Glue lower-cases column names; projection keys and template variables must match them.
    const name = column.toLowerCase();
    const time = TIME_PARTITIONS[name];
    const values = partitionValues[column];
    if (name === 'year') {
      Object.assign(parameters, {
        'projection.year.type': 'integer',
        'projection.year.range': `${startYear},2099`,
        'projection.year.digits': '4',
      });
    } else if (time) {
      Object.assign(parameters, {
        [`projection.${name}.type`]: 'integer',
        [`projection.${name}.range`]: `${time.min},${time.max}`,
        [`projection.${name}.digits`]: '2',
      });
    } else if (values?.length) {
      Object.assign(parameters, {
        [`projection.${name}.type`]: 'enum',
        [`projection.${name}.values`]: values.join(','),
      });
    } else {
      parameters[`projection.${name}.type`] = 'injected';
    }
  }
  parameters['storage.location.template'] =
    location + partitionBy.map((column) => `${sanitiseSegment(column)}=\${${column.toLowerCase()}}/`).join('');
  return parameters;
}

/**
 * Glue database, one JSON table per change table and per FHIR type with partition projection (no
 * crawler), an Athena workgroup with enforced, KMS-encrypted results, and named queries joining
 * change tables with `fhir_patient` (SYSTEM.md §4) and with `view_patient`. Materialised views and current state:
 * a Parquet table per `views/<name>/` and `current/<table>/` prefix (`…_files`, not partitioned: Athena lists the
 * prefix recursively, and `_run` is a column of the files) under an Athena view (`view_<name>`, `current_<table>`)
 * applying the merge-on-read rule of src/query/parquet-views.ts.
 *
 * @example
 * new LakeCatalog(this, 'Catalog', { lakeBucket, changeTables: [{ name: 'visits', partitionBy: ['year', 'month', 'day'] }], fhirTypes: ['Patient'], encryptionKey: key, serverAccessLogsBucket });
 */
export class LakeCatalog extends Construct {
  public readonly database: glue.CfnDatabase;
  public readonly databaseName: string;
  public readonly tables: Record<string, glue.CfnTable> = {};
  public readonly workgroup: athena.CfnWorkGroup;
  public readonly resultsBucket: s3.IBucket;
  public readonly namedQueries: athena.CfnNamedQuery[] = [];

  public constructor(scope: Construct, id: string, props: LakeCatalogProps) {
    super(scope, id);
    assertAlternatives('LakeCatalog', props, ['existingResultsBucket', 'resultsBucketProps']);
    const account = Stack.of(this).account;
    const startYear = props.projectionStartYear ?? 2020;
    const partitionValues = props.partitionValues ?? {};
    this.databaseName = props.databaseName ?? 'tributary';
    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId: account,
      databaseInput: { name: this.databaseName, description: 'Tributary lake: change tables and FHIR resources' },
    });
    const lakeRoot = `s3://${props.lakeBucket.bucketName}/`;

    const addTable = (
      name: string,
      prefix: string,
      columns: glue.CfnTable.ColumnProperty[],
      partitionBy: readonly string[],
      description: string,
    ) => {
      const location = lakeRoot + prefix;
      this.addTableInput(name, {
        name,
        description,
        tableType: 'EXTERNAL_TABLE',
        partitionKeys: partitionBy.map((column) => ({ name: column.toLowerCase(), type: 'string' })),
        parameters: {
          classification: 'json',
          EXTERNAL: 'TRUE',
          ...projectionParameters(location, partitionBy, startYear, partitionValues),
        },
        storageDescriptor: {
          location,
          columns,
          inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
          outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
          serdeInfo: {
            serializationLibrary: JSON_SERDE,
            parameters: { 'ignore.malformed.json': 'true', 'case.insensitive': 'true' },
          },
        },
      });
    };
    // Parquet files under a prefix, not partitioned: Athena lists the location recursively, and the read rule needs
    // every run since the latest base anyway (`_run` is a column of the files).
    const addParquetTable = (
      name: string,
      prefix: string,
      columns: glue.CfnTable.ColumnProperty[],
      description: string,
    ) =>
      this.addTableInput(name, {
        name,
        description,
        tableType: 'EXTERNAL_TABLE',
        partitionKeys: [],
        parameters: { classification: 'parquet', EXTERNAL: 'TRUE' },
        storageDescriptor: {
          location: lakeRoot + prefix,
          columns,
          inputFormat: PARQUET_INPUT_FORMAT,
          outputFormat: PARQUET_OUTPUT_FORMAT,
          serdeInfo: { serializationLibrary: PARQUET_SERDE },
        },
      });

    for (const change of props.changeTables) {
      addTable(
        changeTableName(change.name),
        lakeLayout.changes(change.name),
        CHANGE_COLUMNS,
        change.partitionBy,
        `Changes of DynamoDB table ${change.name}`,
      );
    }
    for (const type of props.fhirTypes) {
      const columns = ['id', 'resourcetype', 'meta', ...(FHIR_COLUMNS[type] ?? [])].map((name) => ({
        name,
        type: 'string',
      }));
      addTable(
        fhirTableName(type),
        lakeLayout.fhir(type),
        columns,
        ['year', 'month', 'day'],
        `FHIR ${type} resources exported from HealthLake`,
      );
    }
    for (const view of props.views ?? []) {
      const name = viewTableName(view.name);
      addParquetTable(
        `${name}_files`,
        lakeLayout.views(view.name),
        viewFileColumns(view),
        `Parquet files of the materialised view ${view.name} (merge-on-read: query ${name})`,
      );
      this.addTableInput(
        name,
        prestoViewInput({
          name,
          description: `ViewDefinition ${view.name}: rows of the current resources`,
          databaseName: this.databaseName,
          sql: viewReadSql(
            `${name}_files`,
            view.columns.map((column) => column.name),
          ),
          columns: viewColumnsForPresto(view),
        }),
      );
    }
    for (const change of props.changeTables) {
      const name = currentTableName(change.name);
      addParquetTable(
        `${name}_files`,
        currentKeyOf(lakeLayout.changes(change.name)),
        CURRENT_FILE_COLUMNS,
        `Parquet deltas of the current state of ${change.name} (query ${name})`,
      );
      this.addTableInput(
        name,
        prestoViewInput({
          name,
          description: `Current state of ${change.name}: the latest image per key, deletes applied`,
          databaseName: this.databaseName,
          sql: currentReadSql(`${name}_files`),
          columns: currentColumnsForPresto(),
        }),
      );
    }

    this.resultsBucket =
      props.existingResultsBucket ??
      new SecureBucket(this, 'ResultsBucket', {
        encryptionKey: props.encryptionKey,
        serverAccessLogsBucket: props.serverAccessLogsBucket,
        serverAccessLogsPrefix: 'athena-results/',
        removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
        lifecycleRules: [
          { id: 'expire-query-results', expiration: Duration.days(props.queryResultsRetentionDays ?? 30) },
        ],
        ...(props.resultsBucketProps ? { bucketProps: props.resultsBucketProps } : {}),
      }).bucket;

    this.workgroup = new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: props.workgroupName ?? 'tributary',
      description: 'Tributary lake queries (results encrypted with the Tributary key)',
      state: 'ENABLED',
      recursiveDeleteOption: false,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        engineVersion: { selectedEngineVersion: 'AUTO' },
        resultConfiguration: {
          outputLocation: `s3://${this.resultsBucket.bucketName}/results/`,
          encryptionConfiguration: { encryptionOption: 'SSE_KMS', kmsKey: props.encryptionKey.keyArn },
        },
      },
    });

    if (props.fhirTypes.includes('Patient')) {
      const patientId = props.patientIdAttribute ?? 'patientId';
      for (const change of props.changeTables) {
        const table = changeTableName(change.name);
        const query = new athena.CfnNamedQuery(this, `${table}WithPatient`, {
          name: `${table} joined with fhir_patient`,
          description: namedQueryDescription(change, patientId, partitionValues),
          database: this.databaseName,
          workGroup: this.workgroup.ref,
          queryString: changesWithPatientQuery(change, patientId, partitionValues),
        });
        query.addResourceDependency(this.workgroup);
        this.namedQueries.push(query);
      }
    }

    const patientView = props.views?.find((view) => view.name === 'patient');
    if (patientView?.columns.some((column) => column.name === 'patient_id')) {
      const patientId = props.patientIdAttribute ?? 'patientId';
      for (const change of props.changeTables) {
        const table = changeTableName(change.name);
        const query = new athena.CfnNamedQuery(this, `${table}WithViewPatient`, {
          name: `${table} joined with view_patient`,
          description: namedQueryDescription(change, patientId, partitionValues).replace(
            'FHIR Patient',
            'view_patient row',
          ),
          database: this.databaseName,
          workGroup: this.workgroup.ref,
          queryString: changesWithViewPatientQuery(change, patientId, partitionValues),
        });
        query.addResourceDependency(this.workgroup);
        this.namedQueries.push(query);
      }
    }
  }

  private addTableInput(name: string, tableInput: glue.CfnTable.TableInputProperty): void {
    const table = new glue.CfnTable(this, name, {
      catalogId: Stack.of(this).account,
      databaseName: this.databaseName,
      tableInput,
    });
    table.addResourceDependency(this.database);
    this.tables[name] = table;
  }
}

/** Glue name of a materialised view: `view_<name>` (its Parquet files: `view_<name>_files`), as in local queries. */
export function viewTableName(view: string): string {
  return `view_${viewIdentifier(view)}`;
}

/** Glue name of a change table's current state: `current_<table>` (its Parquet deltas: `current_<table>_files`). */
export function currentTableName(table: string): string {
  return `current_${viewIdentifier(table)}`;
}

function namedQueryDescription(
  change: CatalogChangeTable,
  patientId: string,
  partitionValues: Readonly<Record<string, readonly string[]>>,
): string {
  const injected = injectedColumns(change.partitionBy, partitionValues);
  const parameters = injected.length > 0 ? `; parameters (?): ${injected.join(', ')}` : '';
  return `Latest changes of ${change.name} this month with the FHIR Patient they refer to (by ${patientId})${parameters}`;
}

/**
 * The named query joining a change table with `fhir_patient`, this month's partitions. Athena
 * rejects a query on an `injected` partition column unless the WHERE clause filters it by static
 * equality, so each injected column gets `= ?`, an execution parameter (the console asks for it).
 *
 * @example
 * changesWithPatientQuery({ name: 'visits', partitionBy: ['siteId', 'year', 'month', 'day'] }, 'patientId', {})
 * // … WHERE c.siteid = ? AND c.year = date_format(current_date, '%Y') AND c.month = date_format(current_date, '%m') …
 */
export function changesWithPatientQuery(
  change: CatalogChangeTable,
  patientId: string,
  partitionValues: Readonly<Record<string, readonly string[]>>,
): string {
  const table = changeTableName(change.name);
  const predicates = thisMonthPredicates(change, partitionValues);
  return [
    `SELECT c.op, c.ts, json_extract_scalar(c.after, '$.${patientId}') AS patient_id, p.gender, p.birthdate, c.after`,
    `FROM ${table} c`,
    `JOIN fhir_patient p ON p.id = json_extract_scalar(coalesce(c.after, c.before), '$.${patientId}')`,
    ...(predicates.length > 0 ? [`WHERE ${predicates.join(' AND ')}`] : []),
    `ORDER BY c.ts DESC`,
    `LIMIT 100`,
  ].join('\n');
}

/** WHERE conditions of the named queries: `= ?` on each injected partition, this month's year and month. */
function thisMonthPredicates(
  change: CatalogChangeTable,
  partitionValues: Readonly<Record<string, readonly string[]>>,
): string[] {
  const columns = change.partitionBy.map((column) => column.toLowerCase());
  return [
    ...injectedColumns(change.partitionBy, partitionValues).map((column) => `c.${column} = ?`),
    ...(columns.includes('year') ? [`c.year = date_format(current_date, '%Y')`] : []),
    ...(columns.includes('month') ? [`c.month = date_format(current_date, '%m')`] : []),
  ];
}

/**
 * The blend join through the patient view (the local demo's `BLEND_JOIN_SQL`): this month's changes of a table with
 * the `view_patient` row of the patient they refer to, by plain equality on `patient_id`. Injected partitions are
 * `= ?` parameters, as in {@link changesWithPatientQuery}.
 *
 * @example
 * changesWithViewPatientQuery({ name: 'visits', partitionBy: ['siteId', 'year', 'month'] }, 'patientId', {})
 * // … JOIN view_patient p ON p.patient_id = json_extract_scalar(coalesce(c.after, c.before), '$.patientId') WHERE c.siteid = ? …
 */
export function changesWithViewPatientQuery(
  change: CatalogChangeTable,
  patientId: string,
  partitionValues: Readonly<Record<string, readonly string[]>>,
): string {
  const predicates = thisMonthPredicates(change, partitionValues);
  return [
    `SELECT c.op, c.ts, c.after, p.*`,
    `FROM ${changeTableName(change.name)} c`,
    `JOIN view_patient p ON p.patient_id = json_extract_scalar(coalesce(c.after, c.before), '$.${patientId}')`,
    ...(predicates.length > 0 ? [`WHERE ${predicates.join(' AND ')}`] : []),
    `ORDER BY c.ts DESC`,
    `LIMIT 100`,
  ].join('\n');
}
