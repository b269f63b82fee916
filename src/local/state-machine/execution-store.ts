/**
 * Durable execution state in SQLite (better-sqlite3): executions with their current state, the event history,
 * task tokens with heartbeat / timeout deadlines, and completed Distributed Map items.
 * Every write is synchronous and committed before the executor moves on (WAL mode: survives a process crash).
 */
import Database from 'better-sqlite3';
import type { ExecutionDescription, ExecutionEvent, ExecutionStatus } from './types.js';

/** A row of the executions table, decoded: what `describeExecution` shows, and what recovery needs. */
export interface ExecutionRecord extends ExecutionDescription {
  definitionHash: string;
  /** Top-level state to (re-)run on recovery, with its input and when it was entered. */
  currentState?: string;
  currentInput?: unknown;
  enteredAt?: Date;
  timeoutAt?: Date;
}

export type TokenStatus = 'PENDING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'CLOSED';

/** A task token row. */
export interface TokenRecord {
  token: string;
  executionArn: string;
  stateName: string;
  status: TokenStatus;
  heartbeatSeconds?: number;
  heartbeatDeadline?: Date;
  timeoutDeadline?: Date;
}

/** A finished Distributed Map item. */
export interface MapItemRecord {
  index: number;
  succeeded: boolean;
  output: unknown;
}

interface ExecutionRow {
  execution_arn: string;
  state_machine_arn: string;
  name: string;
  definition_hash: string;
  status: ExecutionStatus;
  input: string;
  output: string | null;
  error: string | null;
  cause: string | null;
  start_date: number;
  stop_date: number | null;
  current_state: string | null;
  current_input: string | null;
  entered_at: number | null;
  timeout_at: number | null;
  owner: string | null;
}

interface TokenRow {
  token: string;
  execution_arn: string;
  state_name: string;
  status: TokenStatus;
  heartbeat_seconds: number | null;
  heartbeat_deadline: number | null;
  timeout_deadline: number | null;
}

const parse = (text: string | null): unknown => (text === null ? undefined : (JSON.parse(text) as unknown));
const date = (ms: number | null): Date | undefined => (ms === null ? undefined : new Date(ms));
// JSON.stringify(undefined) is undefined; store JSON null so the column stays valid JSON.
const json = (v: unknown): string => JSON.stringify(v === undefined ? null : v);

function toExecution(row: ExecutionRow): ExecutionRecord {
  const rec: ExecutionRecord = {
    executionArn: row.execution_arn,
    stateMachineArn: row.state_machine_arn,
    name: row.name,
    definitionHash: row.definition_hash,
    status: row.status,
    input: parse(row.input),
    startDate: new Date(row.start_date),
  };
  if (row.output !== null) rec.output = parse(row.output);
  if (row.error !== null) rec.error = row.error;
  if (row.cause !== null) rec.cause = row.cause;
  if (row.stop_date !== null) rec.stopDate = new Date(row.stop_date);
  if (row.current_state !== null) rec.currentState = row.current_state;
  if (row.current_input !== null) rec.currentInput = parse(row.current_input);
  const entered = date(row.entered_at);
  if (entered) rec.enteredAt = entered;
  const timeout = date(row.timeout_at);
  if (timeout) rec.timeoutAt = timeout;
  if (row.owner !== null && row.owner !== undefined) rec.owner = row.owner;
  return rec;
}

function toToken(row: TokenRow): TokenRecord {
  const rec: TokenRecord = {
    token: row.token,
    executionArn: row.execution_arn,
    stateName: row.state_name,
    status: row.status,
  };
  if (row.heartbeat_seconds !== null) rec.heartbeatSeconds = row.heartbeat_seconds;
  const hb = date(row.heartbeat_deadline);
  if (hb) rec.heartbeatDeadline = hb;
  const to = date(row.timeout_deadline);
  if (to) rec.timeoutDeadline = to;
  return rec;
}

/**
 * SQLite-backed store of executions, events, task tokens and map items.
 *
 * @example
 * const store = new ExecutionStore('/tmp/sfn.db');
 * store.listExecutions();
 * store.close();
 */
export class ExecutionStore {
  private readonly db: Database.Database;

  public constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS executions (
        execution_arn TEXT PRIMARY KEY, state_machine_arn TEXT NOT NULL, name TEXT NOT NULL, definition_hash TEXT NOT NULL,
        status TEXT NOT NULL, input TEXT NOT NULL, output TEXT, error TEXT, cause TEXT,
        start_date INTEGER NOT NULL, stop_date INTEGER,
        current_state TEXT, current_input TEXT, entered_at INTEGER, timeout_at INTEGER, owner TEXT
      );
      CREATE TABLE IF NOT EXISTS events (
        id INTEGER PRIMARY KEY AUTOINCREMENT, execution_arn TEXT NOT NULL, timestamp INTEGER NOT NULL,
        type TEXT NOT NULL, state_name TEXT, detail TEXT
      );
      CREATE INDEX IF NOT EXISTS events_by_execution ON events (execution_arn, id);
      CREATE TABLE IF NOT EXISTS task_tokens (
        token TEXT PRIMARY KEY, execution_arn TEXT NOT NULL, state_name TEXT NOT NULL, status TEXT NOT NULL,
        heartbeat_seconds INTEGER, heartbeat_deadline INTEGER, timeout_deadline INTEGER
      );
      CREATE INDEX IF NOT EXISTS tokens_by_execution ON task_tokens (execution_arn, status);
      CREATE TABLE IF NOT EXISTS map_items (
        execution_arn TEXT NOT NULL, map_key TEXT NOT NULL, item_index INTEGER NOT NULL,
        succeeded INTEGER NOT NULL, output TEXT NOT NULL,
        PRIMARY KEY (execution_arn, map_key, item_index)
      );
    `);
    // Stores written before executions had owners gain the column (NULL = unknown owner).
    const columns = this.db.prepare('PRAGMA table_info(executions)').all() as Array<{ name: string }>;
    if (!columns.some((c) => c.name === 'owner')) this.db.exec('ALTER TABLE executions ADD COLUMN owner TEXT');
  }

  /** Runs `fn` in one transaction. */
  public transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  public insertExecution(rec: {
    executionArn: string;
    stateMachineArn: string;
    name: string;
    definitionHash: string;
    input: unknown;
    startDate: Date;
    timeoutAt?: Date;
    owner?: string;
  }): void {
    this.db
      .prepare(
        `INSERT INTO executions (execution_arn, state_machine_arn, name, definition_hash, status, input, start_date, timeout_at, owner)
         VALUES (?, ?, ?, ?, 'RUNNING', ?, ?, ?, ?)`,
      )
      .run(
        rec.executionArn,
        rec.stateMachineArn,
        rec.name,
        rec.definitionHash,
        json(rec.input),
        rec.startDate.getTime(),
        rec.timeoutAt?.getTime() ?? null,
        rec.owner ?? null,
      );
  }

  /** Records the process now running an execution (a recovery adopts it). */
  public setOwner(executionArn: string, owner: string): void {
    this.db.prepare('UPDATE executions SET owner = ? WHERE execution_arn = ?').run(owner, executionArn);
  }

  public getExecution(executionArn: string): ExecutionRecord | undefined {
    const row = this.db.prepare('SELECT * FROM executions WHERE execution_arn = ?').get(executionArn) as
      ExecutionRow | undefined;
    return row ? toExecution(row) : undefined;
  }

  public listExecutions(stateMachineArn?: string): ExecutionRecord[] {
    const rows = (
      stateMachineArn === undefined
        ? this.db.prepare('SELECT * FROM executions ORDER BY start_date DESC, rowid DESC').all()
        : this.db
            .prepare('SELECT * FROM executions WHERE state_machine_arn = ? ORDER BY start_date DESC, rowid DESC')
            .all(stateMachineArn)
    ) as ExecutionRow[];
    return rows.map(toExecution);
  }

  /** Records the top-level state about to run (the resume point). */
  public setCurrentState(executionArn: string, stateName: string, input: unknown, enteredAt: Date): void {
    this.db
      .prepare(
        `UPDATE executions SET current_state = ?, current_input = ?, entered_at = ? WHERE execution_arn = ? AND status = 'RUNNING'`,
      )
      .run(stateName, json(input), enteredAt.getTime(), executionArn);
  }

  /** Moves a RUNNING execution to a final status; returns false when it was no longer RUNNING. */
  public finishExecution(
    executionArn: string,
    status: Exclude<ExecutionStatus, 'RUNNING'>,
    stopDate: Date,
    result: { output?: unknown; error?: string; cause?: string },
  ): boolean {
    const info = this.db
      .prepare(
        `UPDATE executions SET status = ?, stop_date = ?, output = ?, error = ?, cause = ?, current_state = NULL, current_input = NULL
         WHERE execution_arn = ? AND status = 'RUNNING'`,
      )
      .run(
        status,
        stopDate.getTime(),
        result.output === undefined ? null : json(result.output),
        result.error ?? null,
        result.cause ?? null,
        executionArn,
      );
    if (info.changes > 0) {
      this.db
        .prepare(`UPDATE task_tokens SET status = 'CLOSED' WHERE execution_arn = ? AND status = 'PENDING'`)
        .run(executionArn);
    }
    return info.changes > 0;
  }

  public appendEvent(event: ExecutionEvent): void {
    this.db
      .prepare('INSERT INTO events (execution_arn, timestamp, type, state_name, detail) VALUES (?, ?, ?, ?, ?)')
      .run(
        event.executionArn,
        event.timestamp.getTime(),
        event.type,
        event.stateName ?? null,
        event.detail === undefined ? null : JSON.stringify(event.detail),
      );
  }

  public history(executionArn: string): ExecutionEvent[] {
    const rows = this.db
      .prepare('SELECT * FROM events WHERE execution_arn = ? ORDER BY id')
      .all(executionArn) as Array<{
      execution_arn: string;
      timestamp: number;
      type: string;
      state_name: string | null;
      detail: string | null;
    }>;
    return rows.map((r) => {
      const e: ExecutionEvent = { executionArn: r.execution_arn, timestamp: new Date(r.timestamp), type: r.type };
      if (r.state_name !== null) e.stateName = r.state_name;
      if (r.detail !== null) e.detail = JSON.parse(r.detail) as Record<string, unknown>;
      return e;
    });
  }

  public insertToken(rec: {
    token: string;
    executionArn: string;
    stateName: string;
    heartbeatSeconds?: number;
    heartbeatDeadline?: Date;
    timeoutDeadline?: Date;
  }): void {
    this.db
      .prepare(
        `INSERT INTO task_tokens (token, execution_arn, state_name, status, heartbeat_seconds, heartbeat_deadline, timeout_deadline)
         VALUES (?, ?, ?, 'PENDING', ?, ?, ?)`,
      )
      .run(
        rec.token,
        rec.executionArn,
        rec.stateName,
        rec.heartbeatSeconds ?? null,
        rec.heartbeatDeadline?.getTime() ?? null,
        rec.timeoutDeadline?.getTime() ?? null,
      );
  }

  public getToken(token: string): TokenRecord | undefined {
    const row = this.db.prepare('SELECT * FROM task_tokens WHERE token = ?').get(token) as TokenRow | undefined;
    return row ? toToken(row) : undefined;
  }

  public pendingTokens(executionArn: string): TokenRecord[] {
    return (
      this.db
        .prepare(`SELECT * FROM task_tokens WHERE execution_arn = ? AND status = 'PENDING'`)
        .all(executionArn) as TokenRow[]
    ).map(toToken);
  }

  /** Closes a PENDING token; false when it was already closed (so exactly one outcome wins). */
  public closeToken(token: string, status: Exclude<TokenStatus, 'PENDING'>): boolean {
    return (
      this.db.prepare(`UPDATE task_tokens SET status = ? WHERE token = ? AND status = 'PENDING'`).run(status, token)
        .changes > 0
    );
  }

  public setHeartbeatDeadline(token: string, deadline: Date): void {
    this.db.prepare('UPDATE task_tokens SET heartbeat_deadline = ? WHERE token = ?').run(deadline.getTime(), token);
  }

  public saveMapItem(executionArn: string, mapKey: string, item: MapItemRecord): void {
    this.db
      .prepare(
        'INSERT OR REPLACE INTO map_items (execution_arn, map_key, item_index, succeeded, output) VALUES (?, ?, ?, ?, ?)',
      )
      .run(executionArn, mapKey, item.index, item.succeeded ? 1 : 0, json(item.output));
  }

  /** Finished items of one Map run, in index order. */
  public mapItems(executionArn: string, mapKey: string): MapItemRecord[] {
    const rows = this.db
      .prepare(
        'SELECT item_index, succeeded, output FROM map_items WHERE execution_arn = ? AND map_key = ? ORDER BY item_index',
      )
      .all(executionArn, mapKey) as Array<{ item_index: number; succeeded: number; output: string }>;
    return rows.map((r) => ({
      index: r.item_index,
      succeeded: r.succeeded === 1,
      output: JSON.parse(r.output) as unknown,
    }));
  }

  public clearMapItems(executionArn: string, mapKey: string): void {
    this.db.prepare('DELETE FROM map_items WHERE execution_arn = ? AND map_key = ?').run(executionArn, mapKey);
  }

  public close(): void {
    if (this.db.open) this.db.close();
  }
}
