import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import Database from 'better-sqlite3';
import type { Database as SqliteDatabase, Statement } from 'better-sqlite3';
import { systemClock, type Clock } from '../../ports/clock.js';
import { ConflictError, GoneError, InvalidRequestError, NotFoundError, PreconditionFailedError } from './errors.js';
import { FHIR_ID_PATTERN, isR4ResourceType } from './r4-definitions.js';
import type { HistoryPage } from './fhir-documents.js';
import { migrate } from './schema.js';
import { searchParametersOf, normaliseSearchString } from './search-parameters.js';
import { searchResources } from './search.js';
import { toStoredVersion, type VersionRow } from './stored-version.js';
import type { FhirResource, StoredVersion, WriteOutcome } from './types.js';

/**
 * Version of what the search tables index; bump it when parameters are added or change, and
 * databases written before are reindexed on open. 2: the R4 token parameters.
 */
export const SEARCH_INDEX_VERSION = '2';

/** Snapshot of the write order taken for an export: everything with `txSeq <= cutSeq`. */
export interface ConsistentCut {
  cutSeq: number;
  /** Every version in the cut has `lastUpdated <= transactionTime`; every later one is after it. */
  transactionTime: string;
}

/** Options of a write. */
export interface WriteOptions {
  /** Expected current version (`If-Match`); a mismatch is 412, a deleted resource 409. */
  ifMatch?: string;
}

/**
 * Checks that a request body is a resource of `expectedType` (an R4 type) with a valid id if any.
 *
 * @example
 * const patient = validateResource(JSON.parse(body), 'Patient');
 */
export function validateResource(body: unknown, expectedType?: string): FhirResource {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidRequestError('the body must be a JSON object (a FHIR resource)', 'structure');
  }
  const resource = body as FhirResource;
  if (typeof resource.resourceType !== 'string' || !isR4ResourceType(resource.resourceType)) {
    throw new InvalidRequestError(
      `resourceType ${JSON.stringify(String(resource.resourceType).slice(0, 64))} is not an R4 resource type`,
    );
  }
  if (expectedType !== undefined && resource.resourceType !== expectedType) {
    throw new InvalidRequestError(`resourceType ${resource.resourceType} does not match the URL type ${expectedType}`);
  }
  if (resource.id !== undefined && (typeof resource.id !== 'string' || !FHIR_ID_PATTERN.test(resource.id))) {
    throw new InvalidRequestError('resource id does not match [A-Za-z0-9-.]{1,64}');
  }
  if (
    resource.meta !== undefined &&
    (typeof resource.meta !== 'object' || resource.meta === null || Array.isArray(resource.meta))
  ) {
    throw new InvalidRequestError('meta must be an object', 'structure');
  }
  return resource;
}

/**
 * Checks a resource type and id taken from a URL.
 *
 * @example
 * assertTypeAndId('Patient', '123');
 */
export function assertTypeAndId(type: string, id?: string): void {
  if (!isR4ResourceType(type)) throw new InvalidRequestError(`${type.slice(0, 64)} is not an R4 resource type`);
  if (id !== undefined && !FHIR_ID_PATTERN.test(id))
    throw new InvalidRequestError('id does not match [A-Za-z0-9-.]{1,64}');
}

/**
 * The versioned resource store over SQLite (better-sqlite3, WAL). All methods are
 * synchronous; a whole FHIR transaction runs inside {@link ResourceStore.transaction}.
 * Deletes are kept as versions so history and exports can report them.
 *
 * @example
 * const store = ResourceStore.open('/tmp/fhir.sqlite');
 * const { version } = store.create({ resourceType: 'Patient' });
 * store.read('Patient', version.id);
 */
export class ResourceStore {
  private lastIssuedMs = 0;
  /** Writes after a cut must be strictly later than the cut's transactionTime. */
  private floorMs = 0;
  private pinnedStamp: string | undefined;
  private readonly statements: ReturnType<typeof prepareStatements>;

  public constructor(
    public readonly db: SqliteDatabase,
    private readonly clock: Clock = systemClock,
  ) {
    migrate(db);
    this.statements = prepareStatements(db);
    const newest = db.prepare('SELECT MAX(last_updated) AS t FROM resources').get() as { t: string | null };
    if (newest.t) this.lastIssuedMs = Date.parse(newest.t);
    const cut = this.getSetting('lastCutTime');
    if (cut) this.floorMs = Date.parse(cut) + 1;
    if (this.getSetting('searchIndexVersion') !== SEARCH_INDEX_VERSION) this.rebuildSearchIndex();
  }

  /**
   * Rebuilds every search index row from the current versions: run when the indexed parameters
   * changed since the database was written (see {@link SEARCH_INDEX_VERSION}).
   */
  public rebuildSearchIndex(): void {
    this.db.transaction(() => {
      for (const table of ['search_token', 'search_string', 'search_date', 'search_reference'])
        this.db.exec(`DELETE FROM ${table}`);
      const page = this.db.prepare(
        `SELECT r.* FROM current_versions c JOIN resources r ON r.tx_seq = c.tx_seq
         WHERE c.deleted = 0 AND r.tx_seq > ? ORDER BY r.tx_seq LIMIT 1000`,
      );
      for (let after = 0; ;) {
        const rows = page.all(after) as VersionRow[];
        if (rows.length === 0) break;
        for (const row of rows) this.reindex(row.type, row.id, toStoredVersion(row).resource, false);
        after = rows[rows.length - 1]?.tx_seq ?? after;
      }
      this.setSetting('searchIndexVersion', SEARCH_INDEX_VERSION);
    })();
  }

  /** Opens (creating if needed) a store in a SQLite file. */
  public static open(file: string, clock?: Clock): ResourceStore {
    return new ResourceStore(new Database(file), clock);
  }

  /** Reads a datastore setting. */
  public getSetting(key: string): string | undefined {
    const row = this.db.prepare('SELECT value FROM settings WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value;
  }

  /** Writes a datastore setting. */
  public setSetting(key: string, value: string): void {
    this.db
      .prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value')
      .run(key, value);
  }

  /**
   * Runs `work` in one SQLite transaction: all of it is written or none. Writes inside
   * share one `lastUpdated`.
   */
  public transaction<T>(work: () => T): T {
    if (this.pinnedStamp !== undefined || this.db.inTransaction) return work();
    this.pinnedStamp = this.nextStamp();
    try {
      return this.db.transaction(work).immediate();
    } finally {
      this.pinnedStamp = undefined;
    }
  }

  /**
   * Takes the consistent cut for an export: the newest write sequence and an instant
   * that separates it from every later write.
   */
  public takeCut(): ConsistentCut {
    const row = this.db.prepare('SELECT COALESCE(MAX(tx_seq), 0) AS seq FROM resources').get() as { seq: number };
    const cutMs = Math.max(this.clock.now().getTime(), this.lastIssuedMs, this.floorMs - 1);
    this.lastIssuedMs = cutMs;
    this.floorMs = cutMs + 1;
    const transactionTime = new Date(cutMs).toISOString();
    this.setSetting('lastCutTime', transactionTime);
    return { cutSeq: row.seq, transactionTime };
  }

  /** Creates a resource with a server-assigned id (or `assignedId`, used by transactions). */
  public create(resource: FhirResource, assignedId?: string): WriteOutcome {
    return this.transaction(() =>
      this.writeVersion(resource.resourceType, assignedId ?? randomUUID(), resource, undefined),
    );
  }

  /** Conditional create: returns the single match of `query` instead of creating, 412 on several. */
  public createIfNoneExist(resource: FhirResource, query: URLSearchParams, assignedId?: string): WriteOutcome {
    return this.transaction(() => {
      const { ids, total } = this.match(resource.resourceType, query);
      if (total > 1) throw new PreconditionFailedError(`If-None-Exist matched ${total} resources (expected 0 or 1)`);
      const match = ids[0];
      if (match !== undefined) return { outcome: 'existing', version: this.read(resource.resourceType, match) };
      return this.create(resource, assignedId);
    });
  }

  /**
   * Update (or create-on-update) of `type/id`. A body equal to the current version apart from
   * `meta` writes nothing and returns the current version (`unchanged`), as HealthLake and HAPI do.
   */
  public update(type: string, id: string, resource: FhirResource, options: WriteOptions = {}): WriteOutcome {
    assertTypeAndId(type, id);
    if (resource.resourceType !== type)
      throw new InvalidRequestError(`resourceType ${resource.resourceType} does not match the URL type ${type}`);
    if (resource.id === undefined) throw new InvalidRequestError('an update must carry the resource id');
    if (resource.id !== id) throw new InvalidRequestError(`resource id ${resource.id} does not match the URL id ${id}`);
    return this.transaction(() => {
      const current = this.current(type, id);
      this.checkIfMatch(type, id, current, options.ifMatch);
      if (current?.deleted === 0 && current.json !== null && sameContent(JSON.parse(current.json), resource))
        return { outcome: 'unchanged', version: toStoredVersion(current) };
      return this.writeVersion(type, id, resource, current);
    });
  }

  /** Conditional update: update the single match of `query`, create when none, 412 on several. */
  public conditionalUpdate(
    type: string,
    query: URLSearchParams,
    resource: FhirResource,
    options: WriteOptions = {},
  ): WriteOutcome {
    return this.transaction(() => {
      const { ids, total } = this.match(type, query);
      if (total > 1)
        throw new PreconditionFailedError(`conditional update matched ${total} resources (expected 0 or 1)`);
      const match = ids[0];
      if (match === undefined) {
        if (resource.id !== undefined) return this.update(type, resource.id, resource, options);
        return this.create(resource);
      }
      if (resource.id !== undefined && resource.id !== match) {
        throw new InvalidRequestError(
          `resource id ${resource.id} does not match the conditionally matched id ${match}`,
        );
      }
      return this.update(type, match, { ...resource, id: match }, options);
    });
  }

  /** Deletes `type/id`, keeping a deleted version. Deleting a deleted resource changes nothing. */
  public delete(type: string, id: string, options: WriteOptions = {}): WriteOutcome {
    assertTypeAndId(type, id);
    return this.transaction(() => {
      const current = this.current(type, id);
      if (!current) throw new NotFoundError(`${type}/${id} does not exist`);
      this.checkIfMatch(type, id, current, options.ifMatch);
      if (current.deleted === 1) return { outcome: 'unchanged', version: toStoredVersion(current) };
      return this.writeVersion(type, id, undefined, current);
    });
  }

  /** The current version of `type/id`: 404 when it never existed, 410 when deleted. */
  public read(type: string, id: string): StoredVersion {
    assertTypeAndId(type, id);
    const row = this.statements.readCurrent.get(type, id) as VersionRow | undefined;
    if (!row) throw new NotFoundError(`${type}/${id} does not exist`);
    const version = toStoredVersion(row);
    if (version.deleted) throw new GoneError(`${type}/${id} was deleted (version ${version.versionId})`);
    return version;
  }

  /** One version of `type/id`: 404 when missing, 410 when that version is a deletion. */
  public vread(type: string, id: string, versionId: string): StoredVersion {
    assertTypeAndId(type, id);
    if (!/^\d{1,15}$/.test(versionId))
      throw new NotFoundError(`${type}/${id} has no version ${versionId.slice(0, 32)}`);
    const row = this.statements.readVersion.get(type, id, Number(versionId)) as VersionRow | undefined;
    if (!row) throw new NotFoundError(`${type}/${id} has no version ${versionId}`);
    const version = toStoredVersion(row);
    if (version.deleted) throw new GoneError(`${type}/${id} version ${versionId} is a deletion`);
    return version;
  }

  /**
   * Versions newest first: of one resource (`type` and `id`), one type, or the whole store.
   * `since` keeps versions with `lastUpdated >= since` (R4: "at or after"); `snapshot` keeps versions with
   * `txSeq <= snapshot` (default: the newest write), so offset paging is stable under writes.
   */
  public history(query: {
    type?: string;
    id?: string;
    since?: string;
    snapshot?: number;
    count: number;
    offset: number;
  }): HistoryPage {
    const where: string[] = [];
    const args: unknown[] = [];
    if (query.type !== undefined) {
      assertTypeAndId(query.type, query.id);
      where.push('type = ?');
      args.push(query.type);
    }
    if (query.id !== undefined) {
      where.push('id = ?');
      args.push(query.id);
    }
    if (query.since !== undefined) {
      // R4 history: versions created "at or after" the instant.
      where.push('last_updated >= ?');
      args.push(query.since);
    }
    const snapshot =
      query.snapshot ??
      (this.db.prepare('SELECT COALESCE(MAX(tx_seq), 0) AS seq FROM resources').get() as { seq: number }).seq;
    where.push('tx_seq <= ?');
    args.push(snapshot);
    const clause = `WHERE ${where.join(' AND ')}`;
    const total = (this.db.prepare(`SELECT COUNT(*) AS n FROM resources ${clause}`).get(...args) as { n: number }).n;
    if (query.id !== undefined && total === 0 && query.since === undefined)
      throw new NotFoundError(`${query.type}/${query.id} does not exist`);
    const rows = this.db
      .prepare(`SELECT * FROM resources ${clause} ORDER BY tx_seq DESC LIMIT ? OFFSET ?`)
      .all(...args, query.count, query.offset) as VersionRow[];
    return {
      total,
      versions: rows.map(toStoredVersion),
      count: query.count,
      offset: query.offset,
      snapshot,
      ...(query.since === undefined ? {} : { since: query.since }),
    };
  }

  /** Current, non-deleted resources of `type` matching a FHIR search query. */
  public search(type: string, query: URLSearchParams, options: { lenient?: boolean } = {}) {
    return searchResources(this.db, type, query, options);
  }

  /** Ids of current resources of `type` matching `query` (at most 2: enough for conditional operations). */
  public matchIds(type: string, query: URLSearchParams): string[] {
    return this.match(type, query).ids;
  }

  /** The first (at most 2) ids matching `query` and the true number of matches. */
  public match(type: string, query: URLSearchParams): { ids: string[]; total: number } {
    assertTypeAndId(type);
    if ([...query.keys()].filter((key) => !key.startsWith('_') || key === '_id').length === 0) {
      throw new InvalidRequestError('a conditional operation needs at least one search criterion');
    }
    const limited = new URLSearchParams(query);
    limited.set('_count', '2');
    limited.delete('_total');
    limited.delete('_summary');
    const page = this.search(type, limited);
    return { ids: page.versions.map((version) => version.id), total: page.total ?? page.versions.length };
  }

  /** Closes the database. */
  public close(): void {
    if (!this.db.open) return;
    this.db.pragma('optimize');
    this.db.close();
  }

  private current(type: string, id: string): VersionRow | undefined {
    return this.statements.readCurrent.get(type, id) as VersionRow | undefined;
  }

  private checkIfMatch(type: string, id: string, current: VersionRow | undefined, ifMatch: string | undefined): void {
    if (ifMatch === undefined) return;
    if (ifMatch === '*') {
      // RFC 9110 §13.1.1: `*` holds when the resource has a current representation (exists and is not deleted).
      if (!current || current.deleted === 1)
        throw new PreconditionFailedError(`If-Match * given but ${type}/${id} has no current version`);
      return;
    }
    if (!current)
      throw new PreconditionFailedError(`If-Match version ${ifMatch} given but ${type}/${id} does not exist`);
    if (current.deleted === 1) throw new ConflictError(`${type}/${id} is deleted; If-Match cannot apply`);
    if (String(current.version_id) !== ifMatch) {
      throw new PreconditionFailedError(
        `If-Match version ${ifMatch} does not match current version ${current.version_id} of ${type}/${id}`,
      );
    }
  }

  private nextStamp(): string {
    if (this.pinnedStamp !== undefined) return this.pinnedStamp;
    const ms = Math.max(this.clock.now().getTime(), this.lastIssuedMs, this.floorMs);
    this.lastIssuedMs = ms;
    return new Date(ms).toISOString();
  }

  /** Appends a version (a deletion when `resource` is undefined), moves the current pointer, reindexes. */
  private writeVersion(
    type: string,
    id: string,
    resource: FhirResource | undefined,
    current: VersionRow | undefined,
  ): WriteOutcome {
    const versionId = (current?.version_id ?? 0) + 1;
    const lastUpdated = this.nextStamp();
    let json: string | null = null;
    let stored: FhirResource | undefined;
    if (resource) {
      const { resourceType: _type, id: _id, meta, ...rest } = resource;
      stored = { resourceType: type, id, meta: { ...meta, versionId: String(versionId), lastUpdated }, ...rest };
      json = JSON.stringify(stored);
    }
    const deleted = resource ? 0 : 1;
    const txSeq = Number(
      this.statements.insertVersion.run(type, id, versionId, lastUpdated, deleted, json).lastInsertRowid,
    );
    this.statements.upsertCurrent.run(type, id, versionId, txSeq, lastUpdated, deleted);
    this.reindex(type, id, stored, current !== undefined);
    const version: StoredVersion = {
      type,
      id,
      versionId,
      lastUpdated,
      txSeq,
      deleted: deleted === 1,
      ...(stored ? { resource: stored } : {}),
    };
    const outcome = !resource ? 'deleted' : current && current.deleted === 0 ? 'updated' : 'created';
    return { outcome, version };
  }

  private reindex(type: string, id: string, resource: FhirResource | undefined, existed: boolean): void {
    const s = this.statements;
    if (existed) for (const clear of s.clearIndex) clear.run(type, id);
    if (!resource) return;
    for (const param of searchParametersOf(type)) {
      for (const value of param.extract(resource)) {
        switch (value.kind) {
          case 'token':
            s.insertToken.run(type, id, param.code, value.system, value.value);
            break;
          case 'string':
            s.insertString.run(type, id, param.code, normaliseSearchString(value.value), value.value);
            break;
          case 'date':
            s.insertDate.run(type, id, param.code, value.range.start, value.range.end);
            break;
          case 'reference':
            s.insertReference.run(type, id, param.code, value.target);
            break;
        }
      }
    }
  }
}

/** Equal apart from `meta` (which the server owns: versionId, lastUpdated). */
function sameContent(stored: FhirResource, incoming: FhirResource): boolean {
  const { meta: _storedMeta, ...storedRest } = stored;
  const { meta: _incomingMeta, ...incomingRest } = incoming;
  return isDeepStrictEqual(storedRest, incomingRest);
}

function prepareStatements(db: SqliteDatabase) {
  const clearIndex: Statement[] = ['search_token', 'search_string', 'search_date', 'search_reference'].map((table) =>
    db.prepare(`DELETE FROM ${table} WHERE type = ? AND id = ?`),
  );
  return {
    readCurrent: db.prepare(
      'SELECT r.* FROM current_versions c JOIN resources r ON r.tx_seq = c.tx_seq WHERE c.type = ? AND c.id = ?',
    ),
    readVersion: db.prepare('SELECT * FROM resources WHERE type = ? AND id = ? AND version_id = ?'),
    insertVersion: db.prepare(
      'INSERT INTO resources (type, id, version_id, last_updated, deleted, json) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    upsertCurrent: db.prepare(
      `INSERT INTO current_versions (type, id, version_id, tx_seq, last_updated, deleted) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (type, id) DO UPDATE SET version_id = excluded.version_id, tx_seq = excluded.tx_seq,
         last_updated = excluded.last_updated, deleted = excluded.deleted`,
    ),
    clearIndex,
    insertToken: db.prepare('INSERT INTO search_token (type, id, param, system, value) VALUES (?, ?, ?, ?, ?)'),
    insertString: db.prepare('INSERT INTO search_string (type, id, param, normalised, exact) VALUES (?, ?, ?, ?, ?)'),
    insertDate: db.prepare('INSERT INTO search_date (type, id, param, start, end) VALUES (?, ?, ?, ?, ?)'),
    insertReference: db.prepare('INSERT INTO search_reference (type, id, param, target) VALUES (?, ?, ?, ?)'),
  };
}
