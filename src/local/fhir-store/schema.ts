import type { Database } from 'better-sqlite3';

/**
 * Tables of the datastore.
 * - `resources`: every version ever written; `tx_seq` is the global write order.
 * - `current_versions`: the latest version of each resource (deleted ones included).
 * - `search_*`: index rows for the current, non-deleted version only.
 * - `export_jobs`: persisted bulk export jobs.
 * - `settings`: datastore identity (id, creation time).
 */
const DDL = `
CREATE TABLE IF NOT EXISTS resources (
  tx_seq INTEGER PRIMARY KEY AUTOINCREMENT,
  type TEXT NOT NULL,
  id TEXT NOT NULL,
  version_id INTEGER NOT NULL,
  last_updated TEXT NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0,
  json TEXT,
  UNIQUE (type, id, version_id)
);
CREATE INDEX IF NOT EXISTS resources_by_type_seq ON resources (type, tx_seq);
CREATE TABLE IF NOT EXISTS current_versions (
  type TEXT NOT NULL,
  id TEXT NOT NULL,
  version_id INTEGER NOT NULL,
  tx_seq INTEGER NOT NULL,
  last_updated TEXT NOT NULL,
  deleted INTEGER NOT NULL,
  PRIMARY KEY (type, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS current_by_type_updated ON current_versions (type, deleted, last_updated);
CREATE TABLE IF NOT EXISTS search_token (type TEXT NOT NULL, id TEXT NOT NULL, param TEXT NOT NULL, system TEXT, value TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS search_token_lookup ON search_token (type, param, value);
CREATE INDEX IF NOT EXISTS search_token_owner ON search_token (type, id);
CREATE TABLE IF NOT EXISTS search_string (type TEXT NOT NULL, id TEXT NOT NULL, param TEXT NOT NULL, normalised TEXT NOT NULL, exact TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS search_string_lookup ON search_string (type, param, normalised);
CREATE INDEX IF NOT EXISTS search_string_owner ON search_string (type, id);
CREATE TABLE IF NOT EXISTS search_date (type TEXT NOT NULL, id TEXT NOT NULL, param TEXT NOT NULL, start TEXT NOT NULL, end TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS search_date_lookup ON search_date (type, param, start);
CREATE INDEX IF NOT EXISTS search_date_owner ON search_date (type, id);
CREATE TABLE IF NOT EXISTS search_reference (type TEXT NOT NULL, id TEXT NOT NULL, param TEXT NOT NULL, target TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS search_reference_lookup ON search_reference (type, param, target);
CREATE INDEX IF NOT EXISTS search_reference_owner ON search_reference (type, id);
CREATE TABLE IF NOT EXISTS export_jobs (
  job_id TEXT PRIMARY KEY,
  submit_seq INTEGER NOT NULL,
  status TEXT NOT NULL,
  client_token TEXT UNIQUE,
  job TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS export_jobs_by_status ON export_jobs (status, submit_seq);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

/**
 * Creates the tables (idempotent) and sets the pragmas the store relies on.
 *
 * @example
 * migrate(new Database(file));
 */
export function migrate(db: Database): void {
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  // Random (UUID) ids touch pages all over the indexes; a bigger page cache keeps ingest fast.
  db.pragma('cache_size = -65536');
  // Fewer, larger checkpoints: each one fsyncs, and bundles of random ids dirty many pages.
  db.pragma('wal_autocheckpoint = 16384');
  db.exec(DDL);
}
