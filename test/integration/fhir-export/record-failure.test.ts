import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handleLedgerRequest } from '../../../src/fhir-export/ledger-requests.js';
import { InMemoryLedgerStore } from '../../../src/fhir-export/ledger-store.js';
import { RunLedger } from '../../../src/fhir-export/run-ledger.js';
import { LOCAL_RESOURCES, loadWorkflowDefinition } from '../../../src/local/export-runtime/index.js';
import {
  LAMBDA_INVOKE,
  S3_GET_OBJECT,
  S3_PUT_OBJECT,
  type StateMachineExecutor,
} from '../../../src/local/state-machine/index.js';
import { Harness } from '../../unit/state-machine/harness.js';

// Issue 10 §3: RecordFailure must work when the caught error has no Cause (a SendTaskFailure without cause, and
// errors Step Functions raises with only a name). The committed workflow, on the local executor, with the real ledger.
let h: Harness;
beforeEach(() => {
  h = new Harness();
});
afterEach(async () => {
  await h.cleanup();
});

function world(fail: (executor: StateMachineExecutor, token: string) => Promise<void>) {
  const ledger = new RunLedger({ store: new InMemoryLedgerStore(), executions: { statusOf: async () => 'UNKNOWN' } });
  const events: Array<{ DetailType: string; Detail: unknown }> = [];
  const ref: { executor?: StateMachineExecutor } = {};
  const executor = h.create(loadWorkflowDefinition().definition, {
    [LAMBDA_INVOKE]: async (p) => {
      const { FunctionName, Payload } = p as { FunctionName: string; Payload: unknown };
      if (FunctionName !== LOCAL_RESOURCES.runLedger) throw new Error(`unexpected ${FunctionName}`);
      return handleLedgerRequest(Payload, ledger);
    },
    'arn:aws:states:::sqs:sendMessage': async (p) => {
      const { taskToken } = (p as { MessageBody: { taskToken: string } }).MessageBody;
      // start-export, later and asynchronously, as the Lambda would.
      setTimeout(() => void fail(ref.executor!, taskToken), 5);
      return { MessageId: '1' };
    },
    'arn:aws:states:::events:putEvents': async (p) => {
      events.push(...(p as { Entries: Array<{ DetailType: string; Detail: unknown }> }).Entries);
      return { FailedEntryCount: 0, Entries: [] };
    },
    [S3_GET_OBJECT]: async () => [],
    [S3_PUT_OBJECT]: async () => ({}),
  });
  ref.executor = executor;
  return { ledger, events, executor };
}

describe('RecordFailure', () => {
  it('records a StartExport failure that has no Cause, releases the lock and publishes ExportRunFailed', async () => {
    const { ledger, events, executor } = world((executor, token) => executor.sendTaskFailure(token, 'Export.Gone'));
    const d = await h.run(executor, {}, 'run-no-cause');
    expect(d.status).toBe('FAILED');
    expect(d.error).toBe('Export.RunFailed'); // the RunFailed state, reached through RecordFailure and PublishFailure
    expect(await ledger.getRun('run-no-cause')).toMatchObject({ status: 'FAILED', error: 'Export.Gone', cause: '' });
    expect(await ledger.lock()).toBeUndefined();
    const failure = events.find((e) => e.DetailType === 'ExportRunFailed');
    expect(failure?.Detail).toEqual({ runId: 'run-no-cause', error: 'Export.Gone', cause: '' });
    const history = await executor.history(d.executionArn);
    expect(history.filter((e) => e.type === 'StateRetryScheduled')).toEqual([]);
  });

  it('still records the cause when there is one', async () => {
    const { ledger, events, executor } = world((executor, token) =>
      executor.sendTaskFailure(token, 'Export.JobFailed', 'job FAILED: quota'),
    );
    const d = await h.run(executor, {}, 'run-cause');
    expect(d.status).toBe('FAILED');
    expect(await ledger.getRun('run-cause')).toMatchObject({ error: 'Export.JobFailed', cause: 'job FAILED: quota' });
    const failure = events.find((e) => e.DetailType === 'ExportRunFailed');
    expect(failure?.Detail).toMatchObject({ error: 'Export.JobFailed', cause: 'job FAILED: quota' });
  });
});
