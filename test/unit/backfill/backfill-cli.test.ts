import type { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { SFNClient } from '@aws-sdk/client-sfn';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { EXIT } from '../../../src/cli/options.js';
import { inProcessCli } from '../cli/run-main.js';

const STATE_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:Backfill';

describe('tributary backfill: usage and --aws', () => {
  const cli = inProcessCli('backfill-cli-');
  const config = () => {
    const file = join(cli.root, 'tributary.config.json');
    writeFileSync(file, JSON.stringify({ tables: [{ name: 'visits', partitionKey: 'id', pipe: {} }] }));
    return file;
  };
  const args = (...extra: string[]) => ['backfill', '--dir', join(cli.root, 'state'), '--config', config(), ...extra];

  it('exits 2 naming the configured tables for an unknown table, and for options that go with --aws', async () => {
    expect(await cli.run(...args('--table', 'nope'))).toBe(EXIT.usage);
    expect(cli.stderr).toContain('--table nope: not a configured table (configured: visits)');
    expect(await cli.run(...args('--table', 'visits', '--aws'))).toBe(EXIT.usage);
    expect(cli.stderr).toContain('--aws needs --state-machine <arn>');
    expect(await cli.run(...args('--table', 'visits', '--from', '2024-03-01T10:00:00Z'))).toBe(EXIT.usage);
    expect(cli.stderr).toContain('--state-machine, --from and --to go with --aws');
  });

  it('--aws starts the deployed state machine: FULL by default, INCREMENTAL with --from; a bad time exits 2', async () => {
    const send = vi.spyOn(SFNClient.prototype, 'send').mockImplementation(async () => ({
      executionArn: 'arn:aws:states:eu-west-1:1:execution:Backfill:x',
      startDate: new Date(),
    }));
    expect(await cli.run(...args('--table', 'visits', '--aws', '--state-machine', STATE_MACHINE))).toBe(EXIT.ok);
    expect(cli.stdout).toContain('arn:aws:states:eu-west-1:1:execution:Backfill:x');
    const first = send.mock.calls[0]![0] as StartExecutionCommand;
    expect(first.input.stateMachineArn).toBe(STATE_MACHINE);
    expect(JSON.parse(first.input.input!)).toEqual({ table: 'visits', mode: 'FULL' });

    expect(
      await cli.run(
        ...args('--table', 'visits', '--aws', '--state-machine', STATE_MACHINE, '--from', '2024-03-01T10:00:00Z'),
      ),
    ).toBe(EXIT.ok);
    const second = send.mock.calls[1]![0] as StartExecutionCommand;
    expect(JSON.parse(second.input.input!)).toEqual({
      table: 'visits',
      mode: 'INCREMENTAL',
      exportFromTime: '2024-03-01T10:00:00Z',
    });

    expect(
      await cli.run(...args('--table', 'visits', '--aws', '--state-machine', STATE_MACHINE, '--from', 'yesterday')),
    ).toBe(EXIT.usage);
    expect(cli.stderr).toContain('exportFromTime: must be an ISO-8601 time');
    expect(send).toHaveBeenCalledTimes(2);
  });
});
