import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStack } from '../../src/local/local-stack.js';
import { parseConfig } from '../../src/config/load.js';
import { localDocumentClient, queryJson, runCli, tempDir } from './cli-harness.js';

const configJson = {
  tables: [
    {
      name: 'patients',
      partitionKey: 'id',
      pipe: {
        filter: [{ eventName: ['INSERT', 'MODIFY', 'REMOVE'] }],
        enrichment: 'patient-fhir',
        target: 'bus',
        batchSize: 10,
      },
    },
  ],
  patientEnrichment: { identifierSystem: 'urn:example:mrn', writeThrough: true },
};

describe('patient enrichment end to end: PutItem → sync → events view', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    dir = await tempDir('e2e-patients');
    await writeFile(join(dir.path, 'config.json'), JSON.stringify(configJson));
  });
  afterAll(async () => dir.cleanup());

  it('turns domain patients into PatientChange events, bad records into _errors, and writes through to FHIR', async () => {
    const state = join(dir.path, 'state');
    // Write through the real SDK against the embedded endpoint, then stop: `sync` restarts from the persisted state.
    const stack = await LocalStack.open({ dir: state, config: parseConfig(configJson), owner: 'test', attach: false });
    const client = localDocumentClient(stack.endpoints.dynamodb);
    const address = { address1: '1 Main St', city: 'Springfield', state: 'IL', postalCode: '62701' };
    await client.send(
      new PutCommand({
        TableName: 'patients',
        Item: { id: 'p-1', firstName: 'Zoë', lastName: 'Łukasz', birthDate: '07-13-1991', address, gender: 'F' },
      }),
    );
    await client.send(
      new PutCommand({
        TableName: 'patients',
        Item: { id: 'p-2', firstName: 'Ann', lastName: 'Lee', birthDate: '02-30-1991', address },
      }),
    );
    await client.send(
      new PutCommand({
        TableName: 'patients',
        Item: { id: 'p-3', firstName: 'Bo', lastName: 'Ng', birthDate: '01-02-1980', address },
      }),
    );
    await client.send(new DeleteCommand({ TableName: 'patients', Key: { id: 'p-3' } }));
    client.destroy();
    await stack.close();

    const sync = await runCli(['sync', '--dir', state, '--config', join(dir.path, 'config.json'), '--no-export']);
    expect(sync.code, sync.stderr).toBe(0);
    // No PHI on the console.
    expect(sync.stderr + sync.stdout).not.toMatch(/Zoë|Łukasz|1991/);

    const query = await queryJson(
      state,
      join(dir.path, 'config.json'),
      "select detail_type, source, detail.command as command, detail.resource.id as id, detail.resource.birthDate as birthDate, detail.resource.identifier[1].system as system from events where detail_type = 'PatientChange' order by time, command desc",
    );
    expect(query.code, query.stderr).toBe(0);
    const rows = JSON.parse(query.stdout) as Array<Record<string, unknown>>;
    expect(rows).toEqual(
      expect.arrayContaining([
        {
          detail_type: 'PatientChange',
          source: 'tributary.patients',
          command: 'PUT',
          id: 'p-1',
          birthDate: '1991-07-13',
          system: 'urn:example:mrn',
        },
        {
          detail_type: 'PatientChange',
          source: 'tributary.patients',
          command: 'PUT',
          id: 'p-3',
          birthDate: '1980-01-02',
          system: 'urn:example:mrn',
        },
        expect.objectContaining({ detail_type: 'PatientChange', command: 'DELETE' }),
      ]),
    );
    expect(rows).toHaveLength(3);

    // The impossible birth date went to _errors with its event id and a PHI-free reason.
    const errors = await queryJson(
      state,
      join(dir.path, 'config.json'),
      'select reason, errorType, eventId from errors',
    );
    const errorRows = JSON.parse(errors.stdout) as Array<{ reason: string; eventId: string }>;
    expect(errorRows).toHaveLength(1);
    expect(errorRows[0]!.reason).toMatch(/birthDate/);
    expect(errorRows[0]!.reason).not.toMatch(/02-30-1991/);

    // Write-through: p-1 is in the FHIR store once; p-3 was written then deleted.
    const again = await LocalStack.open({ dir: state, config: parseConfig(configJson), owner: 'test', attach: false });
    try {
      const p1 = await fetch(`${again.endpoints.fhir}/Patient/p-1`);
      expect(p1.status).toBe(200);
      expect(((await p1.json()) as { meta: { versionId: string } }).meta.versionId).toBe('1');
      expect((await fetch(`${again.endpoints.fhir}/Patient/p-3`)).status).toBe(410);
    } finally {
      await again.close();
    }
  });
});
