/**
 * Starts the deployed backfill/repair state machine (what `tributary backfill --aws` calls). The state machine's ARN is
 * the stack output `BackfillStateMachineArn` (see docs/DEPLOY.md, "Backfill and repair").
 */
import { randomUUID } from 'node:crypto';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { parseBackfillInput, type BackfillInput } from './workflow-input.js';

/** Options of {@link startAwsBackfill}. */
export interface StartAwsBackfillOptions {
  /** The `BackfillStateMachineArn` stack output. */
  stateMachineArn: string;
  /** The config's table name. */
  table: string;
  mode: 'FULL' | 'INCREMENTAL';
  /** INCREMENTAL: start of the window (required), ISO-8601 or a Date. */
  from?: string | Date | undefined;
  /** INCREMENTAL: end of the window; default the latest restorable time. */
  to?: string | Date | undefined;
  /** Re-land this existing export instead of starting one. */
  exportArn?: string | undefined;
  /** Execution name (idempotent for the same input); default `backfill-<table>-<uuid>`. */
  name?: string | undefined;
  /** Default: a client for the ARN's region. */
  sfn?: Pick<SFNClient, 'send'> | undefined;
}

/** The execution started. */
export interface StartedAwsBackfill {
  executionArn: string;
  startDate: Date;
  input: BackfillInput;
}

const isoOf = (value: string | Date | undefined): string | undefined =>
  value === undefined ? undefined : value instanceof Date ? value.toISOString() : value;

/**
 * Validates the input and starts an execution of the backfill state machine.
 *
 * @example
 * const { executionArn } = await startAwsBackfill({ stateMachineArn, table: 'visits', mode: 'INCREMENTAL', from: '2024-03-01T10:00:00Z' });
 */
export async function startAwsBackfill(options: StartAwsBackfillOptions): Promise<StartedAwsBackfill> {
  const from = isoOf(options.from);
  const to = isoOf(options.to);
  const input = parseBackfillInput({
    table: options.table,
    mode: options.mode,
    ...(from !== undefined ? { exportFromTime: from } : {}),
    ...(to !== undefined ? { exportToTime: to } : {}),
    ...(options.exportArn !== undefined ? { exportArn: options.exportArn } : {}),
  });
  const region = options.stateMachineArn.split(':')[3];
  const sfn = options.sfn ?? new SFNClient(region ? { region } : {});
  const name = options.name ?? `backfill-${options.table.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 30)}-${randomUUID()}`;
  const started = await sfn.send(
    new StartExecutionCommand({ stateMachineArn: options.stateMachineArn, name, input: JSON.stringify(input) }),
  );
  if (!started.executionArn) throw new Error('StartExecution returned no executionArn');
  return { executionArn: started.executionArn, startDate: started.startDate ?? new Date(), input };
}
