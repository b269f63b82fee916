import { describe, expect, it } from 'vitest';
import {
  jobIdFromStatusUrl,
  kickoffUrl,
  parseRetryAfter,
  readKickoffResponse,
  readStatusResponse,
} from '../../../src/fhir-export/bulk-data-protocol.js';
import { ExportProtocolError, TransientExportError } from '../../../src/fhir-export/errors.js';

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });

describe('Bulk Data protocol', () => {
  it('builds kick-off URLs with _since and _type (no _since on the first, full export)', () => {
    expect(kickoffUrl('https://h/r4/', { since: null })).toBe('https://h/r4/$export');
    expect(kickoffUrl('https://h/r4', { since: '2024-01-01T00:00:00.000Z', types: ['Patient', 'Observation'] })).toBe(
      'https://h/r4/$export?_since=2024-01-01T00%3A00%3A00.000Z&_type=Patient%2CObservation',
    );
  });

  it('reads the kick-off: 202 + Content-Location, else a clear error', async () => {
    await expect(
      readKickoffResponse(
        new Response(null, { status: 202, headers: { 'content-location': 'https://h/r4/export/j-9' } }),
      ),
    ).resolves.toEqual({
      statusUrl: 'https://h/r4/export/j-9',
      jobId: 'j-9',
    });
    await expect(
      readKickoffResponse(json(403, { resourceType: 'OperationOutcome', issue: [{ diagnostics: 'denied' }] })),
    ).rejects.toThrow(/HTTP 403: denied/);
    await expect(readKickoffResponse(json(403, {}))).rejects.toBeInstanceOf(ExportProtocolError);
    await expect(readKickoffResponse(json(503, {}))).rejects.toBeInstanceOf(TransientExportError);
    expect(jobIdFromStatusUrl('https://hapi/fhir/$export-poll-status?_jobId=abc')).toBe('abc');
  });

  it('maps status answers: 202 running with Retry-After and X-Progress', async () => {
    const running = await readStatusResponse(
      json(202, { exportJobProperties: { jobStatus: 'QUEUED' } }, { 'retry-after': '120', 'x-progress': '10%' }),
    );
    expect(running).toEqual({ status: 'QUEUED', retryAfterSeconds: 120, progress: '10%' });
    expect((await readStatusResponse(new Response(null, { status: 202 }))).status).toBe('IN_PROGRESS');
  });

  it('maps 200 to COMPLETED / COMPLETED_WITH_ERRORS with the manifest, and HealthLake job statuses', async () => {
    const manifest = {
      transactionTime: '2024-05-01T00:00:00Z',
      output: [{ type: 'Patient', url: 's3://b/k', count: 2 }],
      deleted: [{ type: 'Bundle', url: 's3://b/d' }],
    };
    const done = await readStatusResponse(json(200, manifest));
    expect(done.status).toBe('COMPLETED');
    expect(done.manifest).toEqual({ ...manifest, error: [] });
    expect(
      (await readStatusResponse(json(200, { ...manifest, error: [{ type: 'OperationOutcome', url: 's3://b/e' }] })))
        .status,
    ).toBe('COMPLETED_WITH_ERRORS');
    expect(
      await readStatusResponse(
        json(200, { exportJobProperties: { jobStatus: 'CANCEL_COMPLETED', message: 'by user' } }),
      ),
    ).toEqual({ status: 'CANCEL_COMPLETED', message: 'by user' });
    await expect(readStatusResponse(json(200, { output: [] }))).rejects.toBeInstanceOf(ExportProtocolError);
  });

  it('maps error answers: OperationOutcome = FAILED unless transient; 5xx without outcome = transient', async () => {
    const failed = await readStatusResponse(
      json(500, { resourceType: 'OperationOutcome', issue: [{ code: 'exception', diagnostics: 'boom' }] }),
    );
    expect(failed).toEqual({ status: 'FAILED', message: 'export status answered HTTP 500: boom' });
    await expect(
      readStatusResponse(json(500, { resourceType: 'OperationOutcome', issue: [{ code: 'transient' }] })),
    ).rejects.toBeInstanceOf(TransientExportError);
    await expect(readStatusResponse(new Response('gateway', { status: 502 }))).rejects.toBeInstanceOf(
      TransientExportError,
    );
    expect((await readStatusResponse(json(404, {}))).status).toBe('FAILED');
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('30')).toBe(30);
    expect(
      parseRetryAfter(new Date(Date.parse('2024-01-01T00:01:00Z')).toUTCString(), new Date('2024-01-01T00:00:00Z')),
    ).toBe(60);
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});
