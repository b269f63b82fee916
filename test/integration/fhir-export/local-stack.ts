import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { startEmbeddedDynamoDb } from '../../../src/local/dynamodb/index.js';
import { startFhirServer } from '../../../src/local/fhir-store/index.js';
import type { ExportFaults, FhirServer } from '../../../src/local/fhir-store/index.js';
import { DirectoryObjectStore } from '../../../src/local/object-store/directory-object-store.js';
import { stateDirPaths } from '../../../src/local/state-dir.js';
import {
  createLocalExportRuntime,
  type LocalExportRuntime,
  type LocalExportRuntimeOptions,
} from '../../../src/local/export-runtime/index.js';
import type { BusEvent, EventBus, PublishResult } from '../../../src/ports/event-bus.js';
import type { ExportWorkflowConfigInput } from '../../../src/fhir-export/workflow-config.js';

/** Fast local timings for tests. */
export const FAST: ExportWorkflowConfigInput = {
  initialCheckDelaySeconds: 0.05,
  maxCheckDelaySeconds: 0.2,
  backoffMultiplier: 1.5,
  heartbeatSeconds: 5,
  maxWaitSeconds: 60,
};

/** A bus that records what it is given. */
export class RecordingBus implements EventBus {
  public readonly events: BusEvent[] = [];
  public async publish(events: readonly BusEvent[]): Promise<PublishResult> {
    this.events.push(...events);
    return { published: events.length, failed: [] };
  }
}

/** Embedded DynamoDB + embedded FHIR server + lake dir in one temp state dir. */
export class LocalStack {
  public runtime: LocalExportRuntime | undefined;
  public readonly bus = new RecordingBus();
  public readonly faults: ExportFaults = {};
  private constructor(
    public readonly stateDir: string,
    public readonly dynamodb: { endpoint: string; close(): Promise<void> },
    public readonly fhir: FhirServer,
    public readonly lake: DirectoryObjectStore,
  ) {}

  public static async start(): Promise<LocalStack> {
    const stateDir = await mkdtemp(join(tmpdir(), 'tributary-export-'));
    const paths = stateDirPaths(stateDir);
    const dynamodb = await startEmbeddedDynamoDb({ dataDir: paths.dynamodb, streamsDbFile: paths.streams, port: 0 });
    const faults: ExportFaults = {};
    const fhir = await startFhirServer({
      dbFile: paths.fhir,
      exportStore: (bucket) => new DirectoryObjectStore(join(paths.buckets, bucket)),
      port: 0,
      exportFaults: faults,
    });
    const stack = new LocalStack(stateDir, dynamodb, fhir, new DirectoryObjectStore(paths.lake));
    Object.assign(stack, { faults: fhir.exportFaults });
    return stack;
  }

  public async runtimeWith(
    config: ExportWorkflowConfigInput = {},
    extra: Partial<LocalExportRuntimeOptions> = {},
  ): Promise<LocalExportRuntime> {
    this.runtime = await createLocalExportRuntime({
      stateDir: this.stateDir,
      config: { region: 'eu-west-2', export: { ...FAST, ...config } },
      dynamodbEndpoint: this.dynamodb.endpoint,
      fhirBaseUrl: this.fhir.fhirBaseUrl,
      healthlakeEndpoint: this.fhir.healthlakeEndpoint,
      lakeStore: this.lake,
      bus: this.bus,
      ...extra,
    });
    return this.runtime;
  }

  /** PUTs a resource through the FHIR REST API. */
  public async put(resource: { resourceType: string; id: string } & Record<string, unknown>): Promise<void> {
    const response = await fetch(`${this.fhir.fhirBaseUrl}/${resource.resourceType}/${resource.id}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify(resource),
    });
    if (!response.ok)
      throw new Error(`PUT ${resource.resourceType}/${resource.id}: HTTP ${response.status} ${await response.text()}`);
    await response.body?.cancel();
  }

  public async remove(resourceType: string, id: string): Promise<void> {
    const response = await fetch(`${this.fhir.fhirBaseUrl}/${resourceType}/${id}`, { method: 'DELETE' });
    if (!response.ok) throw new Error(`DELETE ${resourceType}/${id}: HTTP ${response.status}`);
    await response.body?.cancel();
  }

  /** Every lake line under `fhir/<type>/`, parsed. */
  public async lakeLines(type: string): Promise<Array<Record<string, unknown>>> {
    const lines: Array<Record<string, unknown>> = [];
    for await (const { key } of this.lake.list(`fhir/${type}/`)) {
      const body = await this.lake.get(key);
      for (const line of gunzipSync(body!).toString('utf8').split('\n'))
        if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
    }
    return lines;
  }

  /** Current state per id: the latest line by meta.lastUpdated (tombstone wins ties); deleted ids dropped. */
  public async currentState(type: string): Promise<Map<string, Record<string, unknown>>> {
    const latest = new Map<string, Record<string, unknown>>();
    for (const line of await this.lakeLines(type)) {
      const id = String(line.id);
      const previous = latest.get(id);
      const at = String((line.meta as { lastUpdated: string }).lastUpdated);
      const previousAt = previous ? String((previous.meta as { lastUpdated: string }).lastUpdated) : '';
      if (!previous || at > previousAt || (at === previousAt && line._tombstone === true)) latest.set(id, line);
    }
    for (const [id, line] of latest) if (line._tombstone === true) latest.delete(id);
    return latest;
  }

  public async closeRuntime(): Promise<void> {
    await this.runtime?.close();
    this.runtime = undefined;
  }

  public async close(): Promise<void> {
    await this.closeRuntime();
    await this.fhir.close();
    await this.dynamodb.close();
    await rm(this.stateDir, { recursive: true, force: true });
  }
}

export function patient(id: string, family: string): { resourceType: string; id: string } & Record<string, unknown> {
  return { resourceType: 'Patient', id, name: [{ family, given: ['Test'] }], gender: 'unknown' };
}

export function observation(
  id: string,
  patientId: string,
  value: number,
): { resourceType: string; id: string } & Record<string, unknown> {
  return {
    resourceType: 'Observation',
    id,
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
    subject: { reference: `Patient/${patientId}` },
    valueQuantity: { value, unit: '/min' },
  };
}
