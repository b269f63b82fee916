/**
 * Embedded FHIR store: resources/s to ingest through transaction bundles (variant `ingest`, fresh store),
 * and resources/s to bulk-export them (variant `export`, same store, separate process so peak RSS is its own).
 * Variant `store` posts the same bundles to the store in-process (no HTTP, no client): what the store itself
 * costs, validation, search indexing and SQLite included, next to the raw insert floor of variant `baseline`.
 */
import { mkdir, rm } from 'node:fs/promises';
import Database from 'better-sqlite3';
import { generatePopulation } from '../../src/synthetic/population.js';
import { generateDirectory } from '../../src/synthetic/directory.js';
import { join } from 'node:path';
import { DirectoryObjectStore } from '../../src/local/object-store/directory-object-store.js';
import { processBundle, ResourceStore, startFhirServer } from '../../src/local/fhir-store/index.js';
import { ensureR4Schema } from '../../src/local/fhir-store/r4-schema.js';
import { migrate } from '../../src/local/fhir-store/schema.js';
import { seedFhir } from '../../src/synthetic/fhir-loader.js';
import { caseArgs, measure } from '../measure.js';

const { variant, n, dir } = caseArgs();
const root = join(dir, 'fhir-store');
const open = () =>
  startFhirServer({
    dbFile: join(root, 'fhir.sqlite'),
    exportStore: (bucket) => new DirectoryObjectStore(join(root, 's3', bucket)),
    datastoreId: 'bench0000000000000000000000000000',
  });

if (variant === 'baseline') {
  // The floor: the same bundles' resources inserted as JSON text into one SQLite table, a transaction per bundle.
  await rm(root, { recursive: true, force: true });
  await mkdir(root, { recursive: true });
  const db = new Database(join(root, 'baseline.sqlite'));
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE r (type TEXT, id TEXT, json TEXT, PRIMARY KEY (type, id))');
  const insert = db.prepare('INSERT OR REPLACE INTO r VALUES (?, ?, ?)');
  const insertBundle = db.transaction((entries: Array<{ resource: { resourceType: string; id?: string } }>) => {
    for (const { resource } of entries) insert.run(resource.resourceType, resource.id ?? '', JSON.stringify(resource));
  });
  await measure(
    { name: 'fhir-store', variant: `baseline: raw SQLite insert of the same bundles`, unit: 'resources' },
    async () => {
      let items = 0;
      const bundles = function* () {
        yield generateDirectory();
        yield* generatePopulation({ patients: n, seed: 'bench' });
      };
      for (const bundle of bundles()) {
        const entries = JSON.parse(JSON.stringify(bundle)).entry as Array<{
          resource: { resourceType: string; id?: string };
        }>;
        insertBundle(entries);
        items += entries.length;
      }
      return { items };
    },
  );
  db.close();
} else if (variant === 'store') {
  await rm(root, { recursive: true, force: true });
  await mkdir(root, { recursive: true });
  ensureR4Schema(); // as the server does on start
  const store = ResourceStore.open(join(root, 'store.sqlite'));
  try {
    await measure(
      {
        name: 'fhir-store',
        variant: `store: transaction bundles in-process, no HTTP (${n} patients)`,
        unit: 'resources',
      },
      async () => {
        let items = 0;
        const bundles = function* () {
          yield generateDirectory();
          yield* generatePopulation({ patients: n, seed: 'bench' });
        };
        for (const bundle of bundles()) {
          const response = processBundle(store, 'http://127.0.0.1/r4', JSON.parse(JSON.stringify(bundle)));
          JSON.stringify(response);
          items += bundle.entry.length;
        }
        return { items };
      },
    );
  } finally {
    store.close();
  }
} else if (variant === 'schema-bound') {
  // The rows the `store` row wrote (versions, current versions, search index rows), inserted again into a fresh
  // database of the same schema and pragmas, one transaction per bundle as the store commits them: what SQLite alone
  // costs for this schema, with no HTTP, JSON, validation or index extraction. The bound of the `store` and `ingest`
  // rows, against the same floor.
  const source = new Database(join(root, 'store.sqlite'), { readonly: true });
  const tables = ['resources', 'current_versions', 'search_token', 'search_string', 'search_date', 'search_reference'];
  // A bundle's writes share one lastUpdated (the store's transaction stamp): group every row by it.
  const stampOf = new Map<string, string>();
  for (const row of source.prepare('SELECT type, id, last_updated FROM current_versions').iterate() as Iterable<{
    type: string;
    id: string;
    last_updated: string;
  }>)
    stampOf.set(`${row.type}/${row.id}`, row.last_updated);
  const groups = new Map<string, Map<string, unknown[][]>>();
  let items = 0;
  for (const table of tables) {
    const statement = source.prepare(`SELECT * FROM ${table}${table === 'resources' ? ' ORDER BY tx_seq' : ''}`);
    for (const row of statement.raw().iterate() as Iterable<unknown[]>) {
      const record = row as unknown[];
      const stamp = stampOf.get(
        `${String(record[table === 'resources' ? 1 : 0])}/${String(record[table === 'resources' ? 2 : 1])}`,
      )!;
      let group = groups.get(stamp);
      if (!group) groups.set(stamp, (group = new Map()));
      let rows = group.get(table);
      if (!rows) group.set(table, (rows = []));
      rows.push(record);
      if (table === 'resources') items += 1;
    }
  }
  source.close();
  await rm(join(root, 'schema-bound.sqlite'), { force: true });
  const db = new Database(join(root, 'schema-bound.sqlite'));
  migrate(db);
  const inserts = new Map(
    tables.map((table) => {
      const width = (db.pragma(`table_info(${table})`) as unknown[]).length;
      return [table, db.prepare(`INSERT INTO ${table} VALUES (${Array(width).fill('?').join(', ')})`)] as const;
    }),
  );
  const insertGroup = db.transaction((group: Map<string, unknown[][]>) => {
    for (const table of tables) for (const row of group.get(table) ?? []) inserts.get(table)!.run(row);
  });
  await measure(
    {
      name: 'fhir-store',
      variant: `bound: the store's own rows into its schema, no HTTP/JSON/validation`,
      unit: 'resources',
    },
    async () => {
      for (const group of groups.values()) insertGroup(group);
      return { items };
    },
  );
  db.close();
} else if (variant === 'ingest') {
  await rm(root, { recursive: true, force: true });
  const server = await open();
  try {
    await measure(
      { name: 'fhir-store', variant: `ingest: transaction bundles (${n} patients)`, unit: 'resources' },
      async () => {
        const counts = await seedFhir({ fhirBaseUrl: server.fhirBaseUrl, patients: n, seed: 'bench', concurrency: 4 });
        return { items: counts.resources };
      },
    );
  } finally {
    await server.close();
  }
} else {
  const server = await open();
  try {
    await measure({ name: 'fhir-store', variant: 'export: $export to NDJSON', unit: 'resources' }, async () => {
      const kickoff = await fetch(`${server.fhirBaseUrl}/$export`, {
        headers: { Prefer: 'respond-async', Accept: 'application/fhir+json' },
      });
      if (kickoff.status !== 202) throw new Error(`kick-off answered ${kickoff.status}: ${await kickoff.text()}`);
      const status = kickoff.headers.get('content-location')!;
      for (;;) {
        const response = await fetch(status);
        if (response.status === 200) {
          const manifest = (await response.json()) as { output: Array<{ count?: number }> };
          return { items: manifest.output.reduce((sum, file) => sum + (file.count ?? 0), 0) };
        }
        if (response.status !== 202) throw new Error(`status answered ${response.status}: ${await response.text()}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    });
  } finally {
    await server.close();
  }
  await rm(root, { recursive: true, force: true });
}
