import type { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { startAwsBackfill } from '../../../src/backfill/start-aws-backfill.js';

const stateMachineArn = 'arn:aws:states:eu-west-1:123456789012:stateMachine:Tributary-Backfill';

function fakeSfn() {
  const sent: StartExecutionCommand[] = [];
  return {
    sent,
    sfn: {
      send: async (command: StartExecutionCommand) => {
        sent.push(command);
        return {
          executionArn: `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${command.input.name}`,
          startDate: new Date(0),
        };
      },
    } as never,
  };
}

describe('startAwsBackfill', () => {
  it('starts the state machine with the documented input', async () => {
    const { sfn, sent } = fakeSfn();
    const started = await startAwsBackfill({
      stateMachineArn,
      table: 'visits',
      mode: 'INCREMENTAL',
      from: new Date('2024-03-01T10:00:00Z'),
      to: '2024-03-01T12:00:00Z',
      name: 'b-1',
      sfn,
    });
    expect(started.executionArn).toMatch(/:execution:Tributary-Backfill:b-1$/);
    expect(sent[0]!.input.stateMachineArn).toBe(stateMachineArn);
    expect(JSON.parse(sent[0]!.input.input!)).toEqual({
      table: 'visits',
      mode: 'INCREMENTAL',
      exportFromTime: '2024-03-01T10:00:00.000Z',
      exportToTime: '2024-03-01T12:00:00Z',
    });
  });

  it('refuses an INCREMENTAL run without a start, before calling AWS', async () => {
    const { sfn, sent } = fakeSfn();
    await expect(
      startAwsBackfill({ stateMachineArn, table: 'visits', mode: 'INCREMENTAL', sfn }),
    ).rejects.toMatchObject({
      name: 'Backfill.InvalidInput',
    });
    expect(sent).toHaveLength(0);
  });

  it('names a FULL run backfill-<table>-<uuid> by default', async () => {
    const { sfn, sent } = fakeSfn();
    await startAwsBackfill({ stateMachineArn, table: 'visits', mode: 'FULL', sfn });
    expect(sent[0]!.input.name).toMatch(/^backfill-visits-[0-9a-f-]{36}$/);
  });
});
