import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterEach, describe, expect, it } from 'vitest';
import { patient, pollExport, readNdjson, startHarness, type Harness, type Json } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function kickOff(
  harness: Harness,
  query = '',
  init: { method?: string; body?: unknown; level?: string } = {},
): Promise<string> {
  const response = await harness.request(init.method ?? 'GET', `/${init.level ?? ''}$export${query}`, init.body, {
    prefer: 'respond-async',
    accept: 'application/fhir+json',
  });
  expect(response.status).toBe(202);
  const location = response.headers.get('content-location');
  expect(location).toMatch(/\/export\/[0-9a-f]{32}$/);
  return location as string;
}

async function seed(harness: Harness, count: number, prefix = 'P'): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 1)
    ids.push((await harness.request('POST', '/Patient', patient(`${prefix}${i}`, 'X', '1990'))).json.id);
  return ids;
}

function byType(manifest: Json, list = 'output'): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const file of manifest[list]) counts[file.type] = (counts[file.type] ?? 0) + file.count;
  return counts;
}

async function exportedIds(harness: Harness, manifest: Json, type: string): Promise<Json[]> {
  const lines: Json[] = [];
  for (const file of manifest.output.filter((f: Json) => f.type === type)) {
    lines.push(...(await readNdjson(harness.bucket(file.extension.tributary.bucket), file.extension.tributary.key)));
  }
  return lines;
}

async function waitForStatus(harness: Harness, statusUrl: string, wanted: string): Promise<void> {
  for (;;) {
    const response = await harness.request('GET', statusUrl);
    const status = response.json?.exportJobProperties?.jobStatus;
    if (status === wanted) return;
    if (response.status !== 202 && status !== wanted)
      throw new Error(`job reached ${status} while waiting for ${wanted}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('bulk export', () => {
  it('exports everything: manifest, HealthLake job properties, files by key and over HTTP, one type per file, N per file', async () => {
    h = await startHarness({ exportMaxResourcesPerFile: 2 });
    const ids = await seed(h, 5);
    await h.request('POST', '/Organization', { resourceType: 'Organization', name: 'Org' });
    const statusUrl = await kickOff(h);
    const done = await pollExport(h, statusUrl);
    expect(done.status).toBe(200);
    const manifest = done.json;
    expect(manifest.requiresAccessToken).toBe(false);
    expect(manifest.request).toBe(`${h.base}/$export`);
    expect(Date.parse(manifest.transactionTime)).not.toBeNaN();
    expect(byType(manifest)).toEqual({ Patient: 5, Organization: 1 });
    expect(manifest.output.filter((f: Json) => f.type === 'Patient').map((f: Json) => f.count)).toEqual([2, 2, 1]);
    expect(manifest.deleted).toEqual([]);
    expect(manifest.error).toEqual([]);
    const jobId = statusUrl.split('/').pop();
    expect(manifest.exportJobProperties).toMatchObject({
      jobId,
      jobStatus: 'COMPLETED',
      datastoreId: h.server.datastoreId,
      outputDataConfig: { S3Configuration: { S3Uri: 's3://tributary-export' } },
    });
    expect(manifest.exportJobProperties.endTime).toBeDefined();
    const first = manifest.output.find((f: Json) => f.type === 'Patient');
    expect(first.extension.tributary.key).toBe(`${h.server.datastoreId}-FHIR_EXPORT-${jobId}/Patient/Patient-1.ndjson`);
    const download = await fetch(first.url);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('application/fhir+ndjson');
    const lines = (await download.text())
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines).toHaveLength(2);
    expect((await exportedIds(h, manifest, 'Patient')).map((r) => r.id).sort()).toEqual([...ids].sort());
  });

  it('filters by _type and _since, reports each resource once in its latest version, and lists deletions', async () => {
    h = await startHarness();
    const [a, b, c] = await seed(h, 3);
    await h.request('POST', '/Observation', { resourceType: 'Observation', status: 'final', code: { text: 'x' } });
    const first = (await pollExport(h, await kickOff(h, '?_type=Patient'))).json;
    expect(byType(first)).toEqual({ Patient: 3 });
    const since = first.transactionTime as string;
    await h.request('PUT', `/Patient/${a}`, { ...patient('A2', 'X', '1990'), id: a });
    await h.request('PUT', `/Patient/${a}`, { ...patient('A3', 'X', '1990'), id: a });
    await h.request('DELETE', `/Patient/${b}`);
    const d = (await h.request('POST', '/Patient', patient('D', 'X', '1990'))).json.id;
    await h.request('POST', '/Observation', { resourceType: 'Observation', status: 'final', code: { text: 'x' } });
    const second = (await pollExport(h, await kickOff(h, `?_since=${encodeURIComponent(since)}&_type=Patient`))).json;
    const exported = await exportedIds(h, second, 'Patient');
    expect(exported.map((r) => r.id).sort()).toEqual([a, d].sort());
    expect(exported.find((r) => r.id === a).meta.versionId).toBe('3');
    expect(exported.find((r) => r.id === a).name[0].family).toBe('A3');
    expect(exported.some((r) => r.id === c)).toBe(false);
    expect(second.deleted).toHaveLength(1);
    expect(second.deleted[0].type).toBe('Bundle');
    const deletedBundles = await readNdjson(h.bucket(), second.deleted[0].extension.tributary.key);
    expect(deletedBundles).toEqual([
      { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'DELETE', url: `Patient/${b}` } }] },
    ]);
    expect(second.deleted[0].url).toContain('/files/_deleted/Bundle-1.ndjson');
    const all = (await pollExport(h, await kickOff(h, `?_since=${encodeURIComponent(since)}`))).json;
    expect(byType(all)).toEqual({ Patient: 2, Observation: 1 });
  });

  it('takes a consistent cut while writes continue during the export', async () => {
    h = await startHarness({ exportMaxResourcesPerFile: 5, exportFaults: { delayPerFileMs: 40 } });
    const ids = await seed(h, 20);
    const statusUrl = await kickOff(h, '?_type=Patient');
    await waitForStatus(h, statusUrl, 'IN_PROGRESS');
    // Keep writing until the export finishes: updates of exported resources and new ones.
    const changed = new Set<string>();
    let finished: { status: number; json: Json } | undefined;
    for (let round = 0; !finished; round += 1) {
      const id = ids[round % ids.length] as string;
      await h.request('PUT', `/Patient/${id}`, { ...patient(`Changed${round}`, 'X', '1990'), id });
      changed.add(id);
      changed.add((await h.request('POST', '/Patient', patient(`New${round}`, 'X', '1990'))).json.id);
      const status = await h.request('GET', statusUrl);
      if (status.status !== 202) finished = status;
    }
    const manifest = finished.json;
    const cut = manifest.transactionTime as string;
    const exported = await exportedIds(h, manifest, 'Patient');
    expect(exported.map((r) => r.id).sort()).toEqual([...ids].sort());
    for (const resource of exported) {
      expect(resource.meta.versionId).toBe('1');
      expect(resource.meta.lastUpdated <= cut).toBe(true);
    }
    // The next window starts exactly at the cut: it holds every change made during the first export, once.
    const next = (await pollExport(h, await kickOff(h, `?_type=Patient&_since=${encodeURIComponent(cut)}`))).json;
    const nextIds = (await exportedIds(h, next, 'Patient')).map((r) => r.id);
    expect(new Set(nextIds).size).toBe(nextIds.length);
    expect(nextIds.sort()).toEqual([...changed].sort());
  });

  it('cancels a running job: polling answers 404 at once (Bulk Data), the job goes CANCEL_SUBMITTED → CANCEL_COMPLETED', async () => {
    h = await startHarness({ exportMaxResourcesPerFile: 1, exportFaults: { delayPerFileMs: 50 } });
    await seed(h, 10);
    const statusUrl = await kickOff(h);
    await waitForStatus(h, statusUrl, 'IN_PROGRESS');
    const cancel = await h.request('DELETE', statusUrl);
    expect(cancel.status).toBe(202);
    expect(cancel.json.exportJobProperties.jobStatus).toBe('CANCEL_SUBMITTED');
    // "Following the delete request, when subsequent requests are made to the polling location, the server SHALL
    // return a 404 Not Found error" — while the job is still winding down.
    const polled = await h.request('GET', statusUrl);
    expect(polled.status).toBe(404);
    expect(polled.json.resourceType).toBe('OperationOutcome');
    expect(polled.json.exportJobProperties.jobStatus).toMatch(/^CANCEL_(SUBMITTED|IN_PROGRESS)$/);
    await h.server.whenExportsIdle();
    const after = await h.request('GET', statusUrl);
    expect(after.status).toBe(404);
    expect(after.json.exportJobProperties.jobStatus).toBe('CANCEL_COMPLETED');
    expect(after.json.exportJobProperties.endTime).toBeDefined();
    expect((await h.request('DELETE', statusUrl)).status).toBe(202);
    expect((await h.request('DELETE', `${h.base}/export/${'0'.repeat(32)}`)).status).toBe(404);
  });

  it('cancels a queued job before it starts', async () => {
    h = await startHarness({ exportMaxResourcesPerFile: 1, exportFaults: { delayPerFileMs: 30 } });
    await seed(h, 4);
    const first = await kickOff(h);
    const second = await kickOff(h);
    expect((await h.request('DELETE', second)).status).toBe(202);
    expect((await pollExport(h, first)).status).toBe(200);
    await h.server.whenExportsIdle();
    expect((await h.request('GET', second)).json.exportJobProperties.jobStatus).toBe('CANCEL_COMPLETED');
    expect((await h.request('DELETE', first)).status).toBe(409);
  });

  it('runs one job at a time: a second job waits SUBMITTED until the first ends', async () => {
    h = await startHarness({ exportMaxResourcesPerFile: 1, exportFaults: { delayPerFileMs: 30 } });
    await seed(h, 4);
    const first = await kickOff(h);
    const second = await kickOff(h);
    await waitForStatus(h, first, 'IN_PROGRESS');
    const waiting = await h.request('GET', second);
    expect(waiting.status).toBe(202);
    expect(waiting.json.exportJobProperties.jobStatus).toBe('SUBMITTED');
    expect(waiting.headers.get('x-progress')).toContain('SUBMITTED');
    expect(waiting.headers.get('retry-after')).toBe('1');
    const firstDone = (await pollExport(h, first)).json;
    const secondDone = (await pollExport(h, second)).json;
    expect(secondDone.exportJobProperties.jobStatus).toBe('COMPLETED');
    expect(Date.parse(secondDone.transactionTime)).toBeGreaterThanOrEqual(
      Date.parse(firstDone.exportJobProperties.endTime),
    );
  });

  it('injects failures: failNextExport → FAILED (500), errorTypes → COMPLETED_WITH_ERRORS, beforeFile throws → FAILED', async () => {
    h = await startHarness();
    await seed(h, 2);
    await h.request('POST', '/Observation', { resourceType: 'Observation', status: 'final', code: { text: 'x' } });
    h.server.exportFaults.failNextExport = 'simulated outage';
    const failed = await pollExport(h, await kickOff(h));
    expect(failed.status).toBe(500);
    expect(failed.json.resourceType).toBe('OperationOutcome');
    expect(failed.json.exportJobProperties).toMatchObject({ jobStatus: 'FAILED', message: 'simulated outage' });
    expect(h.server.exportFaults.failNextExport).toBe(false);

    h.server.exportFaults.errorTypes = ['Observation'];
    const partial = await pollExport(h, await kickOff(h));
    expect(partial.status).toBe(200);
    expect(partial.json.exportJobProperties.jobStatus).toBe('COMPLETED_WITH_ERRORS');
    expect(byType(partial.json)).toEqual({ Patient: 2 });
    expect(partial.json.error).toHaveLength(1);
    const outcomes = await readNdjson(h.bucket(), partial.json.error[0].extension.tributary.key);
    expect(outcomes[0].resourceType).toBe('OperationOutcome');
    h.server.exportFaults.errorTypes = [];

    h.server.exportFaults.beforeFile = ({ type }) => {
      if (type === 'Patient') throw new Error('disk full (simulated)');
    };
    const broken = await pollExport(h, await kickOff(h));
    expect(broken.json.exportJobProperties).toMatchObject({ jobStatus: 'FAILED', message: 'disk full (simulated)' });
  });

  it('resumes a job interrupted by a restart with the same cut', async () => {
    h = await startHarness({ exportMaxResourcesPerFile: 1, exportFaults: { delayPerFileMs: 100 } });
    await seed(h, 6);
    const jobId = (await kickOff(h)).split('/').pop();
    await waitForStatus(h, `${h.base}/export/${jobId}`, 'IN_PROGRESS');
    const before = (await h.request('GET', `${h.base}/export/${jobId}`)).json.exportJobProperties;
    await h.restart({ exportFaults: { delayBeforeStartMs: 100 } });
    const resumed = await h.request('GET', `${h.base}/export/${jobId}`);
    expect(resumed.status).toBe(202);
    expect(resumed.headers.get('x-progress')).toContain('resumed after restart');
    await h.request('POST', '/Patient', patient('AfterRestart', 'X', '1990'));
    const done = await pollExport(h, `${h.base}/export/${jobId}`);
    expect(done.status).toBe(200);
    expect(done.json.exportJobProperties.submitTime).toBe(before.submitTime);
    expect(byType(done.json)).toEqual({ Patient: 6 });
    expect(done.json.output[0].url.startsWith(h.base)).toBe(true);
  });

  it('Patient/$export exports Patient-compartment types only', async () => {
    h = await startHarness();
    await seed(h, 1);
    await h.request('POST', '/Organization', { resourceType: 'Organization', name: 'Org' });
    await h.request('POST', '/Observation', { resourceType: 'Observation', status: 'final', code: { text: 'x' } });
    const manifest = (await pollExport(h, await kickOff(h, '', { level: 'Patient/' }))).json;
    expect(manifest.request).toBe(`${h.base}/Patient/$export`);
    expect(byType(manifest)).toEqual({ Patient: 1, Observation: 1 });
    // Only types outside the compartment: an error, not an empty export (Bulk Data v2, _type).
    const outside = await h.request('GET', '/Patient/$export?_type=Organization,Practitioner');
    expect(outside.status).toBe(400);
    expect(outside.json.issue[0].diagnostics).toContain('Patient compartment');
    expect((await h.request('GET', '/Patient/$export?_type=Organization,Observation')).status).toBe(202);
  });

  it('accepts POST with a Parameters body or a HealthLake body naming the S3 output', async () => {
    h = await startHarness();
    await seed(h, 2);
    const viaParameters = (
      await pollExport(
        h,
        await kickOff(h, '', {
          method: 'POST',
          body: {
            resourceType: 'Parameters',
            parameter: [
              { name: '_type', valueString: 'Patient' },
              { name: '_outputFormat', valueString: 'application/ndjson' },
            ],
          },
        }),
      )
    ).json;
    expect(byType(viaParameters)).toEqual({ Patient: 2 });
    const viaHealthLake = (
      await pollExport(
        h,
        await kickOff(h, '?_type=Patient', {
          method: 'POST',
          body: {
            JobName: 'nightly',
            OutputDataConfig: {
              S3Configuration: {
                S3Uri: 's3://landing-zone/healthlake/exports/',
                KmsKeyId: 'arn:aws:kms:us-east-1:000000000000:key/local',
              },
            },
            DataAccessRoleArn: 'arn:aws:iam::000000000000:role/export',
          },
        }),
      )
    ).json;
    expect(viaHealthLake.exportJobProperties).toMatchObject({
      jobName: 'nightly',
      outputDataConfig: {
        S3Configuration: {
          S3Uri: 's3://landing-zone/healthlake/exports',
          KmsKeyId: 'arn:aws:kms:us-east-1:000000000000:key/local',
        },
      },
      dataAccessRoleArn: 'arn:aws:iam::000000000000:role/export',
    });
    const file = viaHealthLake.output[0].extension.tributary;
    expect(file.bucket).toBe('landing-zone');
    expect(file.key.startsWith(`healthlake/exports/${h.server.datastoreId}-FHIR_EXPORT-`)).toBe(true);
    expect(await readNdjson(h.bucket('landing-zone'), file.key)).toHaveLength(2);
  });

  it('rejects bad kick-offs with a clear 400 and unknown jobs with 404', async () => {
    h = await startHarness();
    const bad = [
      '?_typeFilter=Patient%3Factive%3Dtrue',
      '?_type=Unicorn',
      '?_outputFormat=text/csv',
      '?_since=yesterday',
      '?patient=Patient/1',
    ];
    for (const query of bad) {
      const response = await h.request('GET', `/$export${query}`);
      expect(response.status, query).toBe(400);
      expect(response.json.resourceType).toBe('OperationOutcome');
    }
    expect((await h.request('GET', '/$export?_typeFilter=x')).json.issue[0].diagnostics).toContain(
      '_typeFilter is not supported',
    );
    expect((await h.request('GET', '/Group/1/$export')).status).toBe(400);
    expect((await h.request('GET', `/export/${'a'.repeat(32)}`)).status).toBe(404);
    // Without Prefer: respond-async, like HealthLake, the kick-off is still accepted.
    expect((await h.request('GET', '/$export')).status).toBe(202);
    // An unencoded `+` (curl, hand-written URLs) arrives as a space: still application/fhir+ndjson.
    for (const format of ['application/fhir+ndjson', 'application%2Ffhir%2Bndjson', 'application/ndjson', 'ndjson'])
      expect((await h.request('GET', `/$export?_outputFormat=${format}`)).status, format).toBe(202);
  });

  it('accepts a SigV4-signed kick-off (Authorization is ignored) as the start-export Lambda sends it', async () => {
    h = await startHarness();
    await seed(h, 1);
    const url = new URL(`${h.base}/$export?_since=${encodeURIComponent('2000-01-01T00:00:00Z')}`);
    const body = JSON.stringify({
      JobName: 'signed',
      OutputDataConfig: {
        S3Configuration: { S3Uri: 's3://signed-bucket/p', KmsKeyId: 'arn:aws:kms:us-east-1:000000000000:key/local' },
      },
      DataAccessRoleArn: 'arn:aws:iam::000000000000:role/export',
    });
    const signer = new SignatureV4({
      service: 'healthlake',
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      sha256: Sha256,
    });
    const signed = await signer.sign(
      new HttpRequest({
        method: 'POST',
        protocol: 'http:',
        hostname: url.hostname,
        port: Number(url.port),
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: { host: url.host, 'content-type': 'application/json', prefer: 'respond-async' },
        body,
      }),
    );
    expect(signed.headers.authorization).toMatch(/^AWS4-HMAC-SHA256/);
    const response = await fetch(url, { method: 'POST', headers: signed.headers as Record<string, string>, body });
    expect(response.status).toBe(202);
    const manifest = (await pollExport(h, response.headers.get('content-location') as string)).json;
    expect(manifest.output[0].extension.tributary.bucket).toBe('signed-bucket');
    expect(manifest.request).toContain('_since=');
  });
});
