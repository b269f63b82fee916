import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { canonicalJson } from './stream-record.js';
import type {
  KeySchemaElement,
  NewWriteIntent,
  StreamInfo,
  StreamRecord,
  StreamViewType,
  UnsequencedStreamRecord,
  WireItem,
  WriteIntent,
} from './types.js';

/** Sequence numbers are offset so they always print with 21 digits, like AWS's. */
const SEQUENCE_OFFSET = 10n ** 20n;

/**
 * Formats an internal record position as a DynamoDB Streams sequence number (21-digit numeric string).
 *
 * @example
 * formatSequenceNumber(1n) // '100000000000000000001'
 */
export function formatSequenceNumber(position: bigint): string {
  return (SEQUENCE_OFFSET + position).toString();
}

/**
 * Parses a sequence number back to an internal position, or `undefined` if it is not one of ours.
 *
 * @example
 * parseSequenceNumber('100000000000000000001') // 1n
 */
export function parseSequenceNumber(sequenceNumber: string): bigint | undefined {
  if (!/^\d{21,40}$/.test(sequenceNumber)) return undefined;
  const position = BigInt(sequenceNumber) - SEQUENCE_OFFSET;
  return position >= 0n ? position : undefined;
}

interface StreamRow {
  stream_arn: string;
  table_name: string;
  table_id: string;
  label: string;
  view_type: string;
  key_schema: string;
  created_ms: number;
  shard_id: string;
  start_seq: number | bigint;
  end_seq: number | bigint | null;
  enabled: number;
  trimmed_seq: number | bigint | null;
  disabled_ms: number | bigint | null;
}

interface RecordRow {
  seq: number | bigint;
  record: string;
}

interface IntentRow {
  id: number | bigint;
  stream_arn: string;
  item_key: string;
  old_image: string | null;
  created_ms: number | bigint;
}

/** What a new stream needs. */
export interface NewStream {
  tableName: string;
  tableId: string;
  viewType: StreamViewType;
  keySchema: KeySchemaElement[];
  region: string;
  accountId: string;
}

/** What one {@link StreamStore.purge} pass did. */
export interface PurgeResult {
  /** Records physically deleted. */
  deleted: number;
  /** Whether records remain to delete (the pass stopped at its batch budget). */
  more: boolean;
}

/**
 * Stream metadata and stream records in one SQLite file (WAL). Records are append-only and
 * numbered by a global AUTOINCREMENT position, so sequence numbers only grow, across restarts too.
 *
 * Retention: each stream has a trim horizon, the position of its newest trimmed record (stored, it
 * only moves forward). {@link advanceTrimHorizon} moves it over the oldest records appended before a
 * cutoff; the Streams API hides records at or before it. {@link purge} physically deletes trimmed
 * records that point-in-time recovery no longer needs, in batches.
 *
 * @example
 * const store = new StreamStore('.tributary/dynamodb-streams.sqlite');
 * const stream = store.createStream({ tableName: 'Visits', tableId, viewType: 'NEW_IMAGE', keySchema, region, accountId });
 */
export class StreamStore {
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();

  public constructor(file: string) {
    mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.defaultSafeIntegers(true);
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS streams (
        stream_arn TEXT PRIMARY KEY,
        table_name TEXT NOT NULL,
        table_id   TEXT NOT NULL,
        label      TEXT NOT NULL,
        view_type  TEXT NOT NULL,
        key_schema TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        shard_id   TEXT NOT NULL,
        start_seq  INTEGER NOT NULL,
        end_seq    INTEGER,
        enabled    INTEGER NOT NULL,
        -- Trim horizon: the newest trimmed record's position (NULL: nothing trimmed yet).
        trimmed_seq INTEGER,
        -- When the stream was disabled, epoch milliseconds (NULL: enabled, or disabled before this was kept).
        disabled_ms INTEGER
      );
      CREATE INDEX IF NOT EXISTS streams_by_table ON streams (table_name, created_ms);
      CREATE TABLE IF NOT EXISTS records (
        seq        INTEGER PRIMARY KEY AUTOINCREMENT,
        stream_arn TEXT NOT NULL,
        record     TEXT NOT NULL,
        -- When the record was appended, epoch milliseconds: what retention measures.
        created_ms INTEGER
      );
      CREATE INDEX IF NOT EXISTS records_by_stream ON records (stream_arn, seq);
      -- Write-ahead intents: an item write in flight whose stream record is not stored yet (see write-intents.ts).
      CREATE TABLE IF NOT EXISTS intents (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        stream_arn TEXT NOT NULL,
        item_key   TEXT NOT NULL,
        old_image  TEXT,
        created_ms INTEGER NOT NULL,
        UNIQUE (stream_arn, item_key)
      );
      -- Point-in-time recovery, per table incarnation (dynalite has no continuous backups).
      CREATE TABLE IF NOT EXISTS pitr (
        table_name    TEXT NOT NULL,
        table_id      TEXT NOT NULL,
        enabled_ms    INTEGER NOT NULL,
        recovery_days INTEGER NOT NULL,
        PRIMARY KEY (table_name, table_id)
      );
      -- Exports to S3 (ExportTableToPointInTime): the ExportDescription as JSON.
      CREATE TABLE IF NOT EXISTS exports (
        export_arn   TEXT PRIMARY KEY,
        table_arn    TEXT NOT NULL,
        client_token TEXT,
        request      TEXT NOT NULL,
        created_ms   INTEGER NOT NULL,
        description  TEXT NOT NULL
      );
    `);
    this.migrate();
  }

  /** Adds the retention columns to a file written before they existed. */
  private migrate(): void {
    const columns = (table: string): Set<string> =>
      new Set((this.db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>).map((c) => c.name));
    this.db.transaction(() => {
      const streamColumns = columns('streams');
      if (!streamColumns.has('trimmed_seq')) this.db.exec('ALTER TABLE streams ADD COLUMN trimmed_seq INTEGER');
      if (!streamColumns.has('disabled_ms')) this.db.exec('ALTER TABLE streams ADD COLUMN disabled_ms INTEGER');
      if (!columns('records').has('created_ms')) {
        this.db.exec('ALTER TABLE records ADD COLUMN created_ms INTEGER');
        // Older records: their ApproximateCreationDateTime (whole seconds) is the best time known.
        this.db.exec(
          "UPDATE records SET created_ms = CAST(json_extract(record, '$.dynamodb.ApproximateCreationDateTime') AS INTEGER) * 1000",
        );
      }
    })();
  }

  /** Creates (enables) a new stream for a table. */
  public createStream(input: NewStream): StreamInfo {
    return this.db.transaction((): StreamInfo => {
      let createdMs = Date.now();
      // A label is unique per table: re-enabling within the same millisecond moves on by one.
      const latest = this.latestStream(input.tableName);
      if (latest && latest.createdMs >= createdMs) createdMs = latest.createdMs + 1;
      const label = new Date(createdMs).toISOString().slice(0, -1);
      const streamArn = `arn:aws:dynamodb:${input.region}:${input.accountId}:table/${input.tableName}/stream/${label}`;
      const shardId = `shardId-${String(createdMs).padStart(20, '0')}-${randomBytes(4).toString('hex')}`;
      const startSeq = this.lastPosition() + 1n;
      this.sql(
        `INSERT INTO streams (stream_arn, table_name, table_id, label, view_type, key_schema, created_ms, shard_id, start_seq, end_seq, enabled)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, 1)`,
      ).run(
        streamArn,
        input.tableName,
        input.tableId,
        label,
        input.viewType,
        JSON.stringify(input.keySchema),
        createdMs,
        shardId,
        startSeq,
      );
      return {
        streamArn,
        tableName: input.tableName,
        tableId: input.tableId,
        label,
        viewType: input.viewType,
        keySchema: input.keySchema,
        createdMs,
        shardId,
        startSeq,
        enabled: true,
      };
    })();
  }

  /** Disables a stream: its shard closes at the last record written to it. */
  public disableStream(streamArn: string): void {
    this.db.transaction(() => {
      const stream = this.stream(streamArn);
      if (!stream || !stream.enabled) return;
      const last = this.sql('SELECT MAX(seq) AS seq FROM records WHERE stream_arn = ?').get(streamArn) as {
        seq: bigint | null;
      };
      const endSeq = last.seq ?? stream.startSeq - 1n;
      this.sql('UPDATE streams SET enabled = 0, end_seq = ?, disabled_ms = ? WHERE stream_arn = ?').run(
        endSeq,
        Math.max(Date.now(), stream.createdMs),
        streamArn,
      );
    })();
  }

  /** The enabled stream of a table, if any. */
  public enabledStream(tableName: string): StreamInfo | undefined {
    const row = this.sql(
      'SELECT * FROM streams WHERE table_name = ? AND enabled = 1 ORDER BY created_ms DESC LIMIT 1',
    ).get(tableName) as StreamRow | undefined;
    return row && toStreamInfo(row);
  }

  /** The most recent stream of a table (enabled or not), optionally of one table incarnation. */
  public latestStream(tableName: string, tableId?: string): StreamInfo | undefined {
    const row = (
      tableId === undefined
        ? this.sql('SELECT * FROM streams WHERE table_name = ? ORDER BY created_ms DESC LIMIT 1').get(tableName)
        : this.sql('SELECT * FROM streams WHERE table_name = ? AND table_id = ? ORDER BY created_ms DESC LIMIT 1').get(
            tableName,
            tableId,
          )
    ) as StreamRow | undefined;
    return row && toStreamInfo(row);
  }

  /** One stream by ARN. */
  public stream(streamArn: string): StreamInfo | undefined {
    const row = this.sql('SELECT * FROM streams WHERE stream_arn = ?').get(streamArn) as StreamRow | undefined;
    return row && toStreamInfo(row);
  }

  /** All streams, oldest first, optionally of one table. */
  public listStreams(tableName?: string): StreamInfo[] {
    const rows = (
      tableName === undefined
        ? this.sql('SELECT * FROM streams ORDER BY created_ms, stream_arn').all()
        : this.sql('SELECT * FROM streams WHERE table_name = ? ORDER BY created_ms, stream_arn').all(tableName)
    ) as StreamRow[];
    return rows.map(toStreamInfo);
  }

  /** Appends a record to a stream and returns its position; `nowMs` (when it is appended) is what retention measures. */
  public append(streamArn: string, record: UnsequencedStreamRecord, nowMs = Date.now()): bigint {
    const result = this.sql('INSERT INTO records (stream_arn, record, created_ms) VALUES (?, ?, ?)').run(
      streamArn,
      JSON.stringify(record),
      nowMs,
    );
    return BigInt(result.lastInsertRowid);
  }

  /**
   * Moves a stream's trim horizon over its oldest records appended before `cutoffMs` and returns it:
   * every record of the stream at or before the returned position is trimmed. Only a prefix is
   * trimmed (a record appended later than the cutoff keeps the records after it), and the horizon
   * never moves back. Costs two indexed look-ups plus the records it newly trims.
   */
  public advanceTrimHorizon(streamArn: string, cutoffMs: number): bigint {
    const stream = this.stream(streamArn);
    if (!stream) return 0n;
    const current = stream.trimmedSeq ?? stream.startSeq - 1n;
    const kept = this.sql(
      'SELECT seq FROM records WHERE stream_arn = ? AND seq > ? AND created_ms >= ? ORDER BY seq LIMIT 1',
    ).get(streamArn, current, cutoffMs) as { seq: bigint } | undefined;
    const newest = (
      kept
        ? this.sql(
            'SELECT seq FROM records WHERE stream_arn = ? AND seq > ? AND seq < ? ORDER BY seq DESC LIMIT 1',
          ).get(streamArn, current, kept.seq)
        : this.sql('SELECT seq FROM records WHERE stream_arn = ? AND seq > ? ORDER BY seq DESC LIMIT 1').get(
            streamArn,
            current,
          )
    ) as { seq: bigint } | undefined;
    if (!newest) return current;
    this.sql(
      'UPDATE streams SET trimmed_seq = ? WHERE stream_arn = ? AND (trimmed_seq IS NULL OR trimmed_seq < ?)',
    ).run(newest.seq, streamArn, newest.seq);
    return BigInt(newest.seq);
  }

  /** The position of a stream's first record after position `after`, if any. */
  public firstPositionAfter(streamArn: string, after: bigint): bigint | undefined {
    const row = this.sql('SELECT seq FROM records WHERE stream_arn = ? AND seq > ? ORDER BY seq LIMIT 1').get(
      streamArn,
      after,
    ) as { seq: bigint } | undefined;
    return row && BigInt(row.seq);
  }

  /**
   * Physically deletes, oldest first and at most `maxRecords` of them, the records no one can read
   * any more: trimmed from their stream (see {@link advanceTrimHorizon}) and appended before
   * `keepAfterMs(stream)` (the start of the point-in-time recovery window their export may need).
   * Each batch of `batchSize` is one short statement; a caller that must not block for long calls it
   * again (yielding in between) while it answers `more`.
   */
  public purge(options: {
    trimCutoffMs: number;
    keepAfterMs: (stream: StreamInfo) => number;
    batchSize?: number;
    maxRecords?: number;
  }): PurgeResult {
    const batchSize = options.batchSize ?? 1000;
    let budget = options.maxRecords ?? batchSize;
    let deleted = 0;
    for (const stream of this.listStreams()) {
      const horizon = this.advanceTrimHorizon(stream.streamArn, options.trimCutoffMs);
      const keepAfterMs = Math.min(options.trimCutoffMs, options.keepAfterMs(stream));
      // Deletes a prefix only: the first record still needed bounds the deletion.
      const needed = this.sql(
        'SELECT seq FROM records WHERE stream_arn = ? AND seq <= ? AND created_ms >= ? ORDER BY seq LIMIT 1',
      ).get(stream.streamArn, horizon, keepAfterMs) as { seq: bigint } | undefined;
      const upTo = needed ? BigInt(needed.seq) - 1n : horizon;
      for (;;) {
        if (budget <= 0) return { deleted, more: true };
        const limit = Math.min(batchSize, budget);
        const count = Number(
          this.sql(
            'DELETE FROM records WHERE seq IN (SELECT seq FROM records WHERE stream_arn = ? AND seq <= ? ORDER BY seq LIMIT ?)',
          ).run(stream.streamArn, upTo, limit).changes,
        );
        deleted += count;
        budget -= count;
        if (count < limit) break;
      }
    }
    return { deleted, more: false };
  }

  /**
   * Records write-ahead intents in one transaction and returns them as stored, in the given order.
   * An intent still pending for the same item (its last write's record could not be stored) is kept
   * and returned instead: its old image is the item's last streamed image, which a new record must
   * start from.
   */
  public recordIntents(intents: readonly NewWriteIntent[]): WriteIntent[] {
    return this.db.transaction((): WriteIntent[] =>
      intents.map((intent) => {
        const itemKey = canonicalJson(intent.key);
        this.sql('INSERT OR IGNORE INTO intents (stream_arn, item_key, old_image, created_ms) VALUES (?, ?, ?, ?)').run(
          intent.streamArn,
          itemKey,
          intent.oldImage === undefined ? null : JSON.stringify(intent.oldImage),
          intent.createdMs,
        );
        const row = this.sql('SELECT * FROM intents WHERE stream_arn = ? AND item_key = ?').get(
          intent.streamArn,
          itemKey,
        ) as IntentRow;
        return toWriteIntent(row);
      }),
    )();
  }

  /** Every pending intent, oldest first. */
  public pendingIntents(): WriteIntent[] {
    return (this.sql('SELECT * FROM intents ORDER BY id').all() as IntentRow[]).map(toWriteIntent);
  }

  /**
   * Settles intents in one transaction: appends the records (in order) and deletes the intents, so a
   * crash leaves either both the intents or both the records.
   */
  public settleIntents(
    settled: ReadonlyArray<{ intent: WriteIntent; record?: UnsequencedStreamRecord | undefined }>,
  ): void {
    this.db.transaction(() => {
      for (const { intent, record } of settled) {
        if (record) this.append(intent.streamArn, record);
        this.sql('DELETE FROM intents WHERE id = ?').run(intent.id);
      }
    })();
  }

  /** Up to `limit` records of a stream after position `after`, oldest first. */
  public readAfter(streamArn: string, after: bigint, limit: number): Array<{ position: bigint; record: StreamRecord }> {
    const rows = this.sql('SELECT seq, record FROM records WHERE stream_arn = ? AND seq > ? ORDER BY seq LIMIT ?').all(
      streamArn,
      after,
      limit,
    ) as RecordRow[];
    return rows.map((row) => {
      const position = BigInt(row.seq);
      const stored = JSON.parse(row.record) as UnsequencedStreamRecord;
      const record: StreamRecord = {
        ...stored,
        dynamodb: { ...stored.dynamodb, SequenceNumber: formatSequenceNumber(position) },
      };
      return { position, record };
    });
  }

  /**
   * Up to `limit` records of a stream after position `after` appended at or after `sinceMs`, oldest
   * first, with the position to continue from (the last one looked at). Reads the store itself: records
   * trimmed from the Streams API are still here until purged.
   */
  public readAppendedSince(
    streamArn: string,
    after: bigint,
    sinceMs: number,
    limit: number,
  ): { records: StreamRecord[]; next: bigint | undefined } {
    const rows = this.sql(
      'SELECT seq, record, created_ms FROM records WHERE stream_arn = ? AND seq > ? ORDER BY seq LIMIT ?',
    ).all(streamArn, after, limit) as Array<RecordRow & { created_ms: bigint | null }>;
    const records: StreamRecord[] = [];
    for (const row of rows) {
      if (row.created_ms !== null && Number(row.created_ms) < sinceMs) continue;
      const stored = JSON.parse(row.record) as UnsequencedStreamRecord;
      records.push({
        ...stored,
        dynamodb: { ...stored.dynamodb, SequenceNumber: formatSequenceNumber(BigInt(row.seq)) },
      });
    }
    const last = rows.at(-1);
    return { records, next: rows.length < limit || !last ? undefined : BigInt(last.seq) };
  }

  /** Whether a stream holds any record after position `after`. */
  public hasRecordsAfter(streamArn: string, after: bigint): boolean {
    return (
      this.sql('SELECT 1 FROM records WHERE stream_arn = ? AND seq > ? LIMIT 1').get(streamArn, after) !== undefined
    );
  }

  /** The position of the newest record of any stream (0 when none). */
  public lastPosition(): bigint {
    const row = this.sql("SELECT seq FROM sqlite_sequence WHERE name = 'records'").get() as { seq: bigint } | undefined;
    return row ? BigInt(row.seq) : 0n;
  }

  /** When point-in-time recovery was enabled on a table incarnation, or `undefined` when it is off. */
  public pitr(tableName: string, tableId: string): { enabledMs: number; recoveryDays: number } | undefined {
    const row = this.sql('SELECT enabled_ms, recovery_days FROM pitr WHERE table_name = ? AND table_id = ?').get(
      tableName,
      tableId,
    ) as { enabled_ms: bigint; recovery_days: bigint } | undefined;
    return row && { enabledMs: Number(row.enabled_ms), recoveryDays: Number(row.recovery_days) };
  }

  /** Turns point-in-time recovery on (keeping an earlier enablement time) or off. */
  public setPitr(tableName: string, tableId: string, enabled: { recoveryDays: number } | undefined): void {
    if (!enabled) {
      this.sql('DELETE FROM pitr WHERE table_name = ? AND table_id = ?').run(tableName, tableId);
      return;
    }
    this.sql(
      `INSERT INTO pitr (table_name, table_id, enabled_ms, recovery_days) VALUES (?, ?, ?, ?)
         ON CONFLICT (table_name, table_id) DO UPDATE SET recovery_days = excluded.recovery_days`,
    ).run(tableName, tableId, Date.now(), enabled.recoveryDays);
  }

  /** Stores an export's description. */
  public saveExport(input: {
    exportArn: string;
    tableArn: string;
    clientToken?: string | undefined;
    request: string;
    description: unknown;
  }): void {
    this.sql(
      'INSERT OR REPLACE INTO exports (export_arn, table_arn, client_token, request, created_ms, description) VALUES (?, ?, ?, ?, ?, ?)',
    ).run(
      input.exportArn,
      input.tableArn,
      input.clientToken ?? null,
      input.request,
      Date.now(),
      JSON.stringify(input.description),
    );
  }

  /** One stored export, by ARN or by table and client token. */
  public findExport(
    by: { exportArn: string } | { tableArn: string; clientToken: string },
  ): { request: string; description: Record<string, unknown> } | undefined {
    const row = (
      'exportArn' in by
        ? this.sql('SELECT request, description FROM exports WHERE export_arn = ?').get(by.exportArn)
        : this.sql('SELECT request, description FROM exports WHERE table_arn = ? AND client_token = ?').get(
            by.tableArn,
            by.clientToken,
          )
    ) as { request: string; description: string } | undefined;
    return row && { request: row.request, description: JSON.parse(row.description) as Record<string, unknown> };
  }

  /** Every stored export's description, oldest first, optionally of one table. */
  public listExports(tableArn?: string): Array<Record<string, unknown>> {
    const rows = (
      tableArn === undefined
        ? this.sql('SELECT description FROM exports ORDER BY created_ms, export_arn').all()
        : this.sql('SELECT description FROM exports WHERE table_arn = ? ORDER BY created_ms, export_arn').all(tableArn)
    ) as Array<{ description: string }>;
    return rows.map((row) => JSON.parse(row.description) as Record<string, unknown>);
  }

  /** A prepared statement, prepared once per SQL text: every captured write runs a few of them. */
  private sql(text: string): Database.Statement {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  public close(): void {
    if (this.db.open) this.db.close();
  }
}

function toWriteIntent(row: IntentRow): WriteIntent {
  const intent: WriteIntent = {
    id: BigInt(row.id),
    streamArn: row.stream_arn,
    key: JSON.parse(row.item_key) as WireItem,
    createdMs: Number(row.created_ms),
  };
  if (row.old_image !== null) intent.oldImage = JSON.parse(row.old_image) as WireItem;
  return intent;
}

function toStreamInfo(row: StreamRow): StreamInfo {
  const info: StreamInfo = {
    streamArn: row.stream_arn,
    tableName: row.table_name,
    tableId: row.table_id,
    label: row.label,
    viewType: row.view_type as StreamViewType,
    keySchema: JSON.parse(row.key_schema) as KeySchemaElement[],
    createdMs: Number(row.created_ms),
    shardId: row.shard_id,
    startSeq: BigInt(row.start_seq),
    enabled: Number(row.enabled) === 1,
  };
  if (row.end_seq !== null) info.endSeq = BigInt(row.end_seq);
  if (row.trimmed_seq !== null) info.trimmedSeq = BigInt(row.trimmed_seq);
  if (row.disabled_ms !== null) info.disabledMs = Number(row.disabled_ms);
  return info;
}
