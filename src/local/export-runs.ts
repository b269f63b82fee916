import type { TributaryConfig } from '../config/schema.js';
import type { RunCounts } from '../fhir-export/types.js';
import { LocalStack } from './local-stack.js';
import { DynamoDbLedgerStore } from '../fhir-export/dynamodb-ledger-store.js';
import { RunLedger } from '../fhir-export/run-ledger.js';
import { LOCAL_LEDGER_TABLE } from './export-runtime/local-export-runtime.js';

/** One run as `tributary runs` shows it. */
export interface ExportRunSummary {
  runId: string;
  status: string;
  since: string | null;
  transactionTime?: string;
  startedAt: string;
  endedAt?: string;
  durationSeconds?: number;
  resources: number;
  deleted: number;
  errors: number;
  counts: RunCounts;
  error?: string;
}

/**
 * Reads the export run history from the ledger table: through a running `tributary up`'s DynamoDB
 * endpoint if there is one, else by starting the embedded DynamoDB briefly.
 *
 * @example
 * const runs = await listExportRuns('.tributary', config, 20);
 */
export async function listExportRuns(dir: string, config: TributaryConfig, limit: number): Promise<ExportRunSummary[]> {
  // Attaches to a running `tributary up`, or starts the embedded DynamoDB alone for the duration of the read.
  const stack = await LocalStack.open({
    dir,
    config: { ...config, tables: [] },
    owner: `runs:${process.pid}`,
    fhir: false,
  });
  try {
    const ledger = new RunLedger({
      store: new DynamoDbLedgerStore(stack.clients.dynamodb, LOCAL_LEDGER_TABLE),
      // Listing reads run records only; it never asks about lock owners.
      executions: { statusOf: () => Promise.reject(new Error('not used when listing runs')) },
    });
    const runs = await ledger.listRuns(limit).catch((error: Error) => {
      if (error.name === 'ResourceNotFoundException') return [];
      throw error;
    });
    return runs.map((run) => {
      const counts = run.counts ?? {};
      const sum = (key: 'resources' | 'deleted' | 'errors') =>
        Object.values(counts).reduce((total, c) => total + c[key], 0);
      return {
        runId: run.runId,
        status: run.status,
        since: run.since,
        ...(run.transactionTime ? { transactionTime: run.transactionTime } : {}),
        startedAt: run.startedAt,
        ...(run.endedAt
          ? {
              endedAt: run.endedAt,
              durationSeconds: Math.round((Date.parse(run.endedAt) - Date.parse(run.startedAt)) / 100) / 10,
            }
          : {}),
        resources: sum('resources'),
        deleted: sum('deleted'),
        errors: sum('errors'),
        counts,
        ...(run.error ? { error: `${run.error}${run.cause ? `: ${run.cause}` : ''}` } : {}),
      };
    });
  } finally {
    await stack.close();
  }
}
