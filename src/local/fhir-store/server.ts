import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { systemClock } from '../../ports/clock.js';
import { FhirError, InvalidRequestError, MethodNotAllowedError, NotFoundError } from './errors.js';
import { ExportJobStore } from './export-job-store.js';
import { ExportRunner } from './export-runner.js';
import { operationOutcome, outcomeOf } from './fhir-documents.js';
import { FhirRouter } from './fhir-router.js';
import { HealthLakeControlPlane } from './healthlake-control-plane.js';
import { sendJson } from './http-io.js';
import { r4ResourceTypes } from './r4-definitions.js';
import { ensureR4Schema } from './r4-schema.js';
import { ResourceStore } from './resource-store.js';
import type { FhirServer, FhirServerOptions } from './types.js';

/** Defaults of {@link FhirServerOptions}. */
export const FHIR_SERVER_DEFAULTS = {
  host: '127.0.0.1',
  port: 0,
  region: 'us-east-1',
  accountId: '000000000000',
  maxBodyBytes: 16 * 1024 * 1024,
  exportMaxResourcesPerFile: 10_000,
  exportBucket: 'tributary-export',
} as const;

const PATH_PATTERN = /^\/datastore\/([^/]+)\/r4(?:\/(.*))?$/;

/**
 * Starts the embedded FHIR R4 datastore that behaves like AWS HealthLake: FHIR REST under
 * `/datastore/<id>/r4`, Bulk Data `$export` into the local S3, and the HealthLake control
 * plane (AWS JSON 1.0) on the same port.
 *
 * @example
 * const paths = stateDirPaths('.tributary');
 * const fhir = await startFhirServer({
 *   dbFile: paths.fhir,
 *   exportStore: (bucket) => new DirectoryObjectStore(join(paths.buckets, bucket)),
 * });
 * console.log(fhir.fhirBaseUrl);
 * await fhir.close();
 */
export async function startFhirServer(options: FhirServerOptions): Promise<FhirServer> {
  const settings = { ...FHIR_SERVER_DEFAULTS, ...stripUndefined(options) };
  const clock = options.clock ?? systemClock;
  const faults = options.exportFaults ?? {};
  r4ResourceTypes(); // load the R4 definitions before the first request
  ensureR4Schema(); // and the StructureDefinitions validation reads (~0.5 s), not on the first write
  mkdirSync(dirname(options.dbFile), { recursive: true });
  const store = ResourceStore.open(options.dbFile, clock);
  const datastoreId = options.datastoreId ?? store.getSetting('datastoreId') ?? randomBytes(16).toString('hex');
  store.setSetting('datastoreId', datastoreId);
  const createdAt = store.getSetting('createdAt') ?? clock.now().toISOString();
  store.setSetting('createdAt', createdAt);
  const readDb = new Database(options.dbFile);
  readDb.pragma('query_only = ON');
  const jobs = new ExportJobStore(store.db);

  let baseUrl = '';
  const exportDefaults = {
    bucket: settings.exportBucket,
    dataAccessRoleArn: `arn:aws:iam::${settings.accountId}:role/tributary-local-healthlake-export`,
  };
  const runner = new ExportRunner({
    store,
    jobs,
    readDb,
    exportStore: options.exportStore,
    datastoreId,
    baseUrl: () => baseUrl,
    maxResourcesPerFile: settings.exportMaxResourcesPerFile,
    faults,
    clock,
  });
  const router = new FhirRouter({
    store,
    jobs,
    runner,
    exportStore: options.exportStore,
    datastoreId,
    baseUrl: () => baseUrl,
    maxBodyBytes: settings.maxBodyBytes,
    exportDefaults,
    faults,
    clock,
  });
  const controlPlane = new HealthLakeControlPlane({
    jobs,
    runner,
    datastoreId,
    datastoreName: 'tributary-local',
    createdAt: new Date(createdAt),
    region: settings.region,
    accountId: settings.accountId,
    fhirBaseUrl: () => baseUrl,
    exportDefaults,
    faults,
    clock,
  });

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    try {
      if (request.method === 'POST' && request.headers['x-amz-target'] !== undefined) {
        await controlPlane.handle(request, response, settings.maxBodyBytes);
        return;
      }
      const url = new URL(request.url ?? '/', 'http://localhost');
      const match = PATH_PATTERN.exec(url.pathname);
      if (!match) throw new NotFoundError('not a FHIR path; expected /datastore/<id>/r4/...');
      if (match[1] !== datastoreId)
        throw new NotFoundError(`datastore ${decodeSafely(match[1] ?? '').slice(0, 64)} does not exist`);
      const segments = (match[2] ?? '')
        .split('/')
        .filter((segment) => segment.length > 0)
        .map(decodeSafely);
      await router.handle(request, response, segments, url.searchParams);
    } catch (error) {
      if (response.headersSent) {
        response.destroy();
        return;
      }
      if (error instanceof FhirError) {
        sendJson(
          response,
          error.status,
          error.issues ? outcomeOf(error.issues) : operationOutcome('error', error.issueCode, error.message),
          error.status === 413
            ? { Connection: 'close' }
            : error instanceof MethodNotAllowedError
              ? { Allow: error.allowed.join(', ') }
              : {},
        );
        return;
      }
      // Log the kind of failure only: messages may echo request content.
      console.error(`[fhir-store] internal error on ${request.method} (${(error as Error)?.name ?? 'unknown'})`);
      sendJson(response, 500, operationOutcome('fatal', 'exception', 'internal server error'));
    }
  };

  const server = createServer((request, response) => {
    void handle(request, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const publicHost = settings.host === '0.0.0.0' || settings.host === '::' ? '127.0.0.1' : settings.host;
  const origin = `http://${publicHost.includes(':') ? `[${publicHost}]` : publicHost}:${port}`;
  baseUrl = `${origin}/datastore/${datastoreId}/r4`;
  runner.recover();

  let closed: Promise<void> | undefined;
  return {
    fhirBaseUrl: baseUrl,
    healthlakeEndpoint: origin,
    datastoreId,
    exportFaults: faults,
    whenExportsIdle: () => runner.whenIdle(),
    close: () =>
      (closed ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await runner.stop();
        readDb.close();
        store.close();
      })()),
  };
}

function decodeSafely(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new InvalidRequestError('the URL path is not valid percent-encoding');
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as Partial<T>;
}
