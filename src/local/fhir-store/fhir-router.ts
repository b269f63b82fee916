import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../ports/clock.js';
import { ObjectNotFoundError, type ObjectStore } from '../../ports/object-store.js';
import { processBundle } from './bundle-processor.js';
import { capabilityStatement } from './capability-statement.js';
import { InvalidRequestError, MethodNotAllowedError, NotFoundError, NotSupportedError } from './errors.js';
import { exportJobProperties, exportManifest, newExportJob, type ExportDefaults } from './export-jobs.js';
import type { ExportJobStore } from './export-job-store.js';
import { parseExportRequest } from './export-request.js';
import type { ExportRunner } from './export-runner.js';
import { exportFolder } from './export-writer.js';
import { etagOf, operationOutcome } from './fhir-documents.js';
import { parseJsonBody, readBody, sendJson } from './http-io.js';
import { parsePrefer, writeOutcome } from './prefer.js';
import { locationOf, parseIfMatch, performInteraction } from './interactions.js';
import type { ResourceStore } from './resource-store.js';
import { patientCompartmentTypes } from './r4-definitions.js';
import type { ExportFaults, ExportJob } from './types.js';

/** What the FHIR REST router needs. */
export interface FhirRouterOptions {
  store: ResourceStore;
  jobs: ExportJobStore;
  runner: ExportRunner;
  exportStore: (bucket: string) => ObjectStore;
  datastoreId: string;
  baseUrl: () => string;
  maxBodyBytes: number;
  exportDefaults: ExportDefaults;
  /** Live failure-injection hooks; `statusShape` picks the completed status answer's shape. */
  faults: ExportFaults;
  clock: Clock;
}

/**
 * Statuses the polling location answers 202 for. A job whose cancel was requested is not among them: Bulk Data v2
 * says polling after a DELETE SHALL answer 404, while HealthLake's DescribeFHIRExportJob (the control plane) goes on
 * showing CANCEL_SUBMITTED → CANCEL_COMPLETED.
 */
const RUNNING_STATUSES = new Set(['SUBMITTED', 'QUEUED', 'IN_PROGRESS']);

/**
 * Routes FHIR REST requests under `/datastore/<id>/r4`: metadata, resource interactions,
 * batch/transaction, `$export` kick-off, export status, cancel and file download.
 *
 * @example
 * await router.handle(req, res, ['Patient', '123'], new URLSearchParams());
 */
export class FhirRouter {
  public constructor(private readonly options: FhirRouterOptions) {}

  public async handle(
    request: IncomingMessage,
    response: ServerResponse,
    segments: string[],
    query: URLSearchParams,
  ): Promise<void> {
    const method = request.method ?? 'GET';
    const baseUrl = this.options.baseUrl();
    const [first, second, third] = segments;
    if (segments.length === 0) {
      if (method !== 'POST') throw new MethodNotAllowedError(method, '/', ['POST']);
      const prefer = parsePrefer(header(request, 'prefer'));
      const result = processBundle(this.options.store, baseUrl, await this.jsonBody(request), prefer.return);
      sendJson(response, 200, result);
      return;
    }
    if (first === 'metadata' && segments.length === 1) {
      if (method !== 'GET') throw new MethodNotAllowedError(method, '/metadata', ['GET']);
      sendJson(response, 200, capabilityStatement(baseUrl, this.options.clock.now().toISOString()));
      return;
    }
    if (first === '$export' && segments.length === 1) return this.kickOff(request, response, 'system', query);
    if (first === 'Patient' && second === '$export' && segments.length === 2)
      return this.kickOff(request, response, 'patient', query);
    if (first === 'Group' && third === '$export')
      throw new NotSupportedError('Group-level $export is not supported; use $export or Patient/$export');
    if (first === 'export' && second !== undefined)
      return this.exportJobRoute(request, response, second, segments.slice(2));

    let body: unknown;
    let effectiveQuery = query;
    if (method === 'POST' && second === '_search' && segments.length === 2) {
      const form = new URLSearchParams((await readBody(request, this.options.maxBodyBytes)).toString('utf8'));
      effectiveQuery = new URLSearchParams([...query, ...form]);
    } else if (method === 'POST' || method === 'PUT') {
      body = await this.jsonBody(request);
      if (body === undefined) throw new InvalidRequestError('a resource body is required', 'required');
    }
    const ifMatch = parseIfMatch(header(request, 'if-match'));
    const ifNoneExist = header(request, 'if-none-exist');
    const prefer = parsePrefer(header(request, 'prefer'));
    const result = performInteraction(this.options.store, baseUrl, {
      method,
      segments,
      query: effectiveQuery,
      body,
      ...(ifMatch ? { ifMatch } : {}),
      ...(ifNoneExist ? { ifNoneExist } : {}),
      lenient: prefer.lenient,
    });
    const headers: Record<string, string> = {};
    if (result.version) {
      headers.ETag = etagOf(result.version.versionId);
      headers['Last-Modified'] = new Date(result.version.lastUpdated).toUTCString();
      if (method === 'POST' || method === 'PUT') headers.Location = locationOf(baseUrl, result.version);
    }
    const write = method === 'POST' || method === 'PUT' || method === 'DELETE';
    if (write && prefer.return === 'OperationOutcome') {
      // A body on a delete means 200 rather than 204 (R4 §3.1.0.7).
      sendJson(response, result.status === 204 ? 200 : result.status, writeOutcome(method, result), headers);
      return;
    }
    const minimal = prefer.return === 'minimal' && write;
    sendJson(response, result.status, result.status === 204 || minimal ? undefined : result.body, headers);
  }

  private async jsonBody(request: IncomingMessage): Promise<unknown> {
    return parseJsonBody(await readBody(request, this.options.maxBodyBytes));
  }

  private async kickOff(
    request: IncomingMessage,
    response: ServerResponse,
    level: ExportJob['level'],
    query: URLSearchParams,
  ): Promise<void> {
    const method = request.method ?? 'GET';
    if (method !== 'GET' && method !== 'POST') throw new MethodNotAllowedError(method, '/$export', ['GET', 'POST']);
    // Prefer: respond-async is required by the spec; like HealthLake we accept its absence.
    const body = method === 'POST' ? await this.jsonBody(request) : undefined;
    const exportRequest = parseExportRequest(query, body);
    if (
      level === 'patient' &&
      exportRequest.types.length > 0 &&
      !exportRequest.types.some((type) => patientCompartmentTypes().has(type))
    )
      // Bulk Data v2 (_type): asking Patient/$export for types outside the compartment only is an error, not an empty export.
      throw new InvalidRequestError(
        `_type names no resource type of the Patient compartment (${exportRequest.types.join(', ')}); use [base]/$export for them`,
      );
    const baseUrl = this.options.baseUrl();
    const queryText = query.toString();
    const job = this.options.runner.submit(
      newExportJob({
        request: exportRequest,
        level,
        requestUrl: `${baseUrl}/${level === 'patient' ? 'Patient/' : ''}$export${queryText ? `?${queryText}` : ''}`,
        defaults: this.options.exportDefaults,
        now: this.options.clock.now(),
      }),
    );
    sendJson(
      response,
      202,
      { datastoreId: this.options.datastoreId, jobStatus: job.status, jobId: job.jobId },
      {
        'Content-Location': `${baseUrl}/export/${job.jobId}`,
      },
      'application/json',
    );
  }

  private async exportJobRoute(
    request: IncomingMessage,
    response: ServerResponse,
    jobId: string,
    rest: string[],
  ): Promise<void> {
    const method = request.method ?? 'GET';
    const { jobs, datastoreId } = this.options;
    if (rest.length === 0 && method === 'DELETE') {
      const job = this.options.runner.cancel(jobId);
      sendJson(response, 202, { exportJobProperties: exportJobProperties(job, datastoreId) }, {}, 'application/json');
      return;
    }
    if (method !== 'GET')
      throw new MethodNotAllowedError(method, `/export/${jobId}`, rest.length === 0 ? ['GET', 'DELETE'] : ['GET']);
    const job = jobs.get(jobId);
    if (!job) throw new NotFoundError(`export job ${jobId.slice(0, 64)} does not exist`);
    if (rest.length > 0) return this.sendExportFile(response, job, rest);
    const properties = exportJobProperties(job, datastoreId);
    if (RUNNING_STATUSES.has(job.status)) {
      sendJson(
        response,
        202,
        { exportJobProperties: properties },
        {
          'X-Progress': `${job.status}${job.progress ? `: ${job.progress}` : ''}`,
          'Retry-After': '1',
        },
        'application/json',
      );
      return;
    }
    if (job.status === 'COMPLETED' || job.status === 'COMPLETED_WITH_ERRORS') {
      const body = exportManifest(job, datastoreId, this.options.baseUrl(), this.options.faults.statusShape);
      sendJson(response, 200, body, {}, 'application/json');
      return;
    }
    const cancelled = job.status.startsWith('CANCEL_');
    const outcome = cancelled
      ? operationOutcome('error', 'not-found', `export job ${jobId} was cancelled (${job.status})`)
      : operationOutcome('error', 'exception', `export job ${jobId} failed: ${job.message ?? 'unknown reason'}`);
    sendJson(response, cancelled ? 404 : 500, { ...outcome, exportJobProperties: properties });
  }

  private async sendExportFile(response: ServerResponse, job: ExportJob, rest: string[]): Promise<void> {
    if (
      rest[0] !== 'files' ||
      rest.length < 3 ||
      rest.some((segment) => segment === '..' || segment === '.' || segment === '')
    ) {
      throw new NotFoundError('no such export file');
    }
    const key = `${exportFolder(job.prefix, this.options.datastoreId, job.jobId)}/${rest.slice(1).join('/')}`;
    let stream;
    try {
      stream = await this.options.exportStore(job.bucket).getStream(key);
    } catch (error) {
      if (error instanceof ObjectNotFoundError) throw new NotFoundError('no such export file');
      throw error;
    }
    response.writeHead(200, { 'Content-Type': 'application/fhir+ndjson' });
    stream.pipe(response);
    await new Promise<void>((resolve, reject) => {
      stream.on('error', reject);
      response.on('close', resolve);
    });
  }
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
