import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { directoryResources } from './directory.js';
import { literalReferences, renderPatientResources } from './fhir-resources.js';
import { resolvePopulationOptions } from './options.js';
import { generatePatientPlans } from './population.js';
import type { FhirResource, PopulationOptions, SeedProgress } from './types.js';

export interface NdjsonPopulationOptions extends PopulationOptions {
  /** Only write these resource types (default all). */
  types?: string[];
  /** Also write Practitioner.ndjson and Organization.ndjson (default true). */
  includeDirectory?: boolean;
  onProgress?: SeedProgress;
}

export interface NdjsonFileSummary {
  path: string;
  resources: number;
  bytes: number;
}

export interface NdjsonPopulationSummary {
  patients: number;
  resources: number;
  files: Record<string, NdjsonFileSummary>;
}

/** How many patients between progress callbacks (progress is for humans, not per item). */
const PROGRESS_EVERY = 100;

/**
 * Writes the same population `generatePopulation` yields as bulk-export-style NDJSON, one file per
 * resource type (`Observation.ndjson`, …), with literal references (`Patient/p-000001`) and the
 * deterministic ids. Streams with backpressure (memory does not grow with N); each file is
 * written to a temporary name and renamed when complete.
 *
 * @example
 * await writePopulationNdjson('/tmp/bench', { patients: 50_000, seed: 1, types: ['Observation'] });
 */
export async function writePopulationNdjson(
  dir: string,
  options: NdjsonPopulationOptions,
): Promise<NdjsonPopulationSummary> {
  const resolved = resolvePopulationOptions(options);
  const wanted = options.types ? new Set(options.types) : undefined;
  await mkdir(dir, { recursive: true });
  const writers = new Map<string, { stream: WriteStream; temp: string; summary: NdjsonFileSummary }>();
  const summary: NdjsonPopulationSummary = { patients: 0, resources: 0, files: {} };

  const writerFor = (resourceType: string) => {
    let writer = writers.get(resourceType);
    if (!writer) {
      const path = join(dir, `${resourceType}.ndjson`);
      const temp = `${path}.${process.pid}.tmp`;
      writer = {
        stream: createWriteStream(temp, { encoding: 'utf8' }),
        temp,
        summary: { path, resources: 0, bytes: 0 },
      };
      writers.set(resourceType, writer);
    }
    return writer;
  };

  const writeAll = async (resources: FhirResource[]): Promise<void> => {
    const chunks = new Map<string, string[]>();
    for (const resource of resources) {
      if (wanted && !wanted.has(resource.resourceType)) continue;
      let lines = chunks.get(resource.resourceType);
      if (!lines) chunks.set(resource.resourceType, (lines = []));
      lines.push(JSON.stringify(resource));
    }
    for (const [resourceType, lines] of chunks) {
      const writer = writerFor(resourceType);
      const text = `${lines.join('\n')}\n`;
      writer.summary.resources += lines.length;
      writer.summary.bytes += Buffer.byteLength(text);
      summary.resources += lines.length;
      if (!writer.stream.write(text)) await once(writer.stream, 'drain');
    }
  };

  try {
    if (options.includeDirectory ?? true) await writeAll(directoryResources());
    for (const plan of generatePatientPlans(resolved)) {
      await writeAll(renderPatientResources(plan, literalReferences));
      summary.patients++;
      if (summary.patients % PROGRESS_EVERY === 0)
        options.onProgress?.(summary.patients, resolved.patients, summary.resources);
    }
    for (const writer of writers.values()) {
      writer.stream.end();
      await finished(writer.stream);
      await rename(writer.temp, writer.summary.path);
      summary.files[writer.summary.path.slice(dir.length + 1).replace(/\.ndjson$/, '')] = writer.summary;
    }
    options.onProgress?.(summary.patients, resolved.patients, summary.resources);
    return summary;
  } catch (error) {
    for (const writer of writers.values()) {
      writer.stream.destroy();
      await rm(writer.temp, { force: true });
    }
    throw error;
  }
}
