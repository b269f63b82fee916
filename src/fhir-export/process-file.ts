import { createHash } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import { datePartitions, hivePath, lakeLayout, sanitiseSegment } from '../lake/layout.js';
import type { BusEvent, EventBus } from '../ports/event-bus.js';
import type { ObjectStore } from '../ports/object-store.js';
import { ExportWorkflowError } from './errors.js';
import { LakeFileWriter } from './lake-file-writer.js';
import { canonicalUtcDate, ResourceLineScanner } from './resource-line-scanner.js';
import { parseDeleteUrl, tombstone } from './tombstone.js';
import type { ProcessFileInput, ProcessFileResult } from './types.js';

/** Pipeline name of rejected export lines: `_errors/fhir-export/`. */
export const FHIR_EXPORT_ERROR_PIPELINE = 'fhir-export';

/** Detail-type and source of the optional per-resource events. */
export const FHIR_RESOURCE_CHANGED = { source: 'tributary.fhir-export', detailType: 'FhirResourceChanged' } as const;

/** Detail of a `FhirResourceChanged` event: ids only, never resource content. */
export interface FhirResourceChangedDetail {
  resourceType: string;
  id: string;
  versionId?: string;
  lastUpdated: string;
  deleted: boolean;
  runId: string;
  jobId: string;
}

/** Dependencies of {@link processExportFile}. */
export interface ProcessFileDeps {
  /** The store of a bucket (the export bucket named by the item). */
  exportStore: (bucket: string) => ObjectStore;
  /** The lake. */
  lake: ObjectStore;
  /** When set, each landed resource/tombstone is also published as `FhirResourceChanged`. */
  bus?: EventBus;
  /** Events per publish call (default 100). */
  eventBatchSize?: number;
  /** Memory budget of buffered lake lines (default 16 MiB). */
  maxBufferedBytes?: number;
  /**
   * gzip level of the lake files (default 6, the lake's level). Another level changes the files' bytes, not their
   * lines: level 1 writes about 15% more bytes in about two thirds of the time (see bench/cases/process-file.ts).
   */
  compressionLevel?: number;
}

/** Raised when events could not be published (the file is retried; lake writes are idempotent). */
export class EventPublishError extends ExportWorkflowError {
  public constructor(failed: number) {
    super('Export.EventPublishFailed', `${failed} FhirResourceChanged events could not be published`);
  }
}

/**
 * Lands one exported NDJSON file in the lake, streaming line by line (memory stays flat on any file size):
 * - `output` files: each valid resource line, byte for byte, under `fhir/<Type>/year=/month=/day=/` by `meta.lastUpdated`
 *   (the export's transactionTime when absent);
 * - `deleted` files (Bulk Data Bundles of DELETE entries): one {@link Tombstone} per entry;
 * - `error` files (the export's OperationOutcome NDJSON): each line under `_errors/fhir-export/`, with the run's ids;
 * - malformed lines (not JSON, no resourceType/id, wrong type, bad date): `_errors/fhir-export/` with file, line number and reason.
 * Object names start with the export's transactionTime (`YYYYMMDDTHHMMSS.mmmZ_`) and derive from the job id and file
 * key, so a retry overwrites the same objects.
 *
 * Lines are handled as bytes: an ordinary resource line is validated and read in place by {@link ResourceLineScanner}
 * and copied to the lake without being decoded or parsed; any line it is not sure about is decided by `JSON.parse` as
 * before. Files are gzipped on the libuv pool while lines keep coming ({@link LakeFileWriter}): memory is bounded by
 * `maxBufferedBytes` plus a quarter of it in flight, whatever the file size or number of partitions. The output is
 * byte-identical to what the line-by-line `JSON.parse` implementation wrote (test/unit/fhir-export/process-file-identical.test.ts).
 * That includes how it read a line the scanner declines: decoded as UTF-8 (an invalid byte becomes U+FFFD) and trimmed
 * of Unicode whitespace (a BOM, U+00A0, U+3000…) before `JSON.parse`, so such a line lands altered instead of going to
 * `_errors/`. Kept for byte identity (issue 12); rejecting it instead is a change of output to decide on its own.
 *
 * @example
 * const result = await processExportFile(item, { exportStore: (b) => stores[b], lake });
 * // { type: 'Patient', kind: 'output', key, resources: 120, deleted: 0, errors: 1, files: 3 }
 */
export async function processExportFile(input: ProcessFileInput, deps: ProcessFileDeps): Promise<ProcessFileResult> {
  const stem = fileStem(input);
  const lake = new LakeFileWriter(deps.lake, stem, deps.maxBufferedBytes ?? 16 * 1024 * 1024, {
    compressionLevel: deps.compressionLevel,
  });
  const errors = new LakeFileWriter(deps.lake, stem, 4 * 1024 * 1024);
  const errorPrefix = `${lakeLayout.errors(FHIR_EXPORT_ERROR_PIPELINE)}${hivePath(datePartitions(new Date(input.transactionTime)))}`;
  const events = new EventBatcher(deps.bus, deps.eventBatchSize ?? 100);
  const result: ProcessFileResult = {
    type: input.type,
    kind: input.kind,
    key: input.key,
    resources: 0,
    deleted: 0,
    errors: 0,
    files: 0,
  };
  const deletedByType: Record<string, number> = {};
  const prefixes = new PartitionPrefixes();

  // Every `_errors/fhir-export/` line names the file, line and run, so the failed resource can be found again.
  const landError = async (line: number, fields: Record<string, unknown>) => {
    result.errors += 1;
    const line_ = JSON.stringify({
      pipeline: FHIR_EXPORT_ERROR_PIPELINE,
      bucket: input.bucket,
      file: input.key,
      line,
      ...fields,
      runId: input.runId,
      jobId: input.jobId,
      transactionTime: input.transactionTime,
    });
    if (errors.addText(errorPrefix, line_)) await errors.drain();
  };
  const reject = (line: number, reason: string) => landError(line, { reason });

  // An error file of the export: each OperationOutcome line is kept whole (parsed when it is JSON) beside the run's
  // ids, so the failed resources can be found and re-exported; each one counts as an error of the run.
  const landExportError = async (line: number, text: string) => {
    let outcome: unknown = text;
    try {
      outcome = JSON.parse(text);
    } catch {
      // kept as text
    }
    await landError(line, { reason: 'reported by the export (error file)', outcome });
  };

  const landResource = async (prefix: string, text: string) => {
    if (lake.addText(prefix, text)) await lake.drain();
  };

  /** One line, decoded (the general path; the fast path below gives the same outcome without decoding). */
  const processLine = async (lineNumber: number, raw: string) => {
    const text = raw.trim();
    if (text === '') return;
    if (input.kind === 'error') {
      await landExportError(lineNumber, text);
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      await reject(lineNumber, 'not valid JSON');
      return;
    }
    if (input.kind === 'output') {
      const problem = checkResource(parsed, input.type);
      if (problem) {
        await reject(lineNumber, problem);
        return;
      }
      const resource = parsed as {
        resourceType: string;
        id: string;
        meta?: { lastUpdated?: unknown; versionId?: unknown };
      };
      const lastUpdated =
        typeof resource.meta?.lastUpdated === 'string' ? resource.meta.lastUpdated : input.transactionTime;
      const at = new Date(lastUpdated);
      if (Number.isNaN(at.getTime())) {
        await reject(lineNumber, 'meta.lastUpdated is not a valid instant');
        return;
      }
      await landResource(prefixes.of(resource.resourceType, at), text);
      result.resources += 1;
      if (deps.bus)
        await events.add({
          resourceType: resource.resourceType,
          id: resource.id,
          ...(typeof resource.meta?.versionId === 'string' ? { versionId: resource.meta.versionId } : {}),
          lastUpdated: at.toISOString(),
          deleted: false,
          runId: input.runId,
          jobId: input.jobId,
        });
    } else {
      const bundle = parsed as { resourceType?: unknown; entry?: unknown };
      if (!bundle || typeof bundle !== 'object' || bundle.resourceType !== 'Bundle' || !Array.isArray(bundle.entry)) {
        await reject(lineNumber, 'deleted file line is not a Bundle with entries');
        return;
      }
      for (const [index, entry] of (bundle.entry as unknown[]).entries()) {
        const e = entry as
          { request?: { method?: unknown; url?: unknown }; response?: { lastModified?: unknown } } | undefined;
        const target =
          e?.request?.method === 'DELETE' && typeof e.request.url === 'string'
            ? parseDeleteUrl(e.request.url)
            : undefined;
        if (!target) {
          await reject(lineNumber, `entry ${index} is not a DELETE of Type/id`);
          continue;
        }
        const deletedAt =
          typeof e?.response?.lastModified === 'string' ? e.response.lastModified : input.transactionTime;
        const at = new Date(deletedAt);
        if (Number.isNaN(at.getTime())) {
          await reject(lineNumber, `entry ${index} response.lastModified is not a valid instant`);
          continue;
        }
        const iso = at.toISOString();
        await landResource(
          prefixes.of(target.resourceType, at),
          JSON.stringify(tombstone(target.resourceType, target.id, iso)),
        );
        result.deleted += 1;
        deletedByType[target.resourceType] = (deletedByType[target.resourceType] ?? 0) + 1;
        await events.add({
          resourceType: target.resourceType,
          id: target.id,
          lastUpdated: iso,
          deleted: true,
          runId: input.runId,
          jobId: input.jobId,
        });
      }
    }
  };

  // The fast path of resource lines: a line that is plainly a resource of the file's type (one JSON object starting
  // with `{` and ending with `}`, escape-free resourceType/id/meta.lastUpdated, a valid instant) is validated and read
  // in place by the scanner and copied to the lake as bytes. Every other line takes processLine, which decides.
  const scanner = new ResourceLineScanner();
  const typeBytes = Buffer.from(input.type, 'utf8');
  const fast = input.kind === 'output' && RESOURCE_TYPE.test(input.type);
  const typePrefixes = prefixes.ofType(input.type);

  let lineNumber = 0;
  /** Lines of `block`, which ends after a line feed (or at the end of the file). */
  const processBlock = async (block: Buffer) => {
    if (!fast || hasLoneCr(block) || !isUtf8(block)) {
      // readline's line breaks (\r\n, \n or a lone \r) and decoding (U+FFFD for invalid UTF-8).
      const lines = block.toString('utf8').split(LINE_BREAK);
      if (lines[lines.length - 1] === '') lines.pop();
      for (const line of lines) await processLine((lineNumber += 1), line);
      return;
    }
    let start = 0;
    while (start < block.length) {
      let next = block.indexOf(LF, start);
      if (next === -1) next = block.length;
      // A CRLF line ends before its CR (readline's line break is \r\n).
      const end = next > start && block[next - 1] === CR ? next - 1 : next;
      lineNumber += 1;
      if (end > start) {
        if (
          block[start] === OPEN_BRACE &&
          block[end - 1] === CLOSE_BRACE &&
          scanner.scan(block, start, end) &&
          scanner.idEnd > scanner.idStart &&
          block.compare(typeBytes, 0, typeBytes.length, scanner.resourceTypeStart, scanner.resourceTypeEnd) === 0
        ) {
          // The usual instant is read from its digits; any other form is parsed by Date, as processLine does. (With a
          // bus, the event needs the instant itself: Date.)
          const date =
            scanner.lastUpdatedStart >= 0 && !deps.bus
              ? canonicalUtcDate(block, scanner.lastUpdatedStart, scanner.lastUpdatedEnd)
              : -1;
          let ms = 0;
          let prefix: string | undefined;
          if (date >= 0) prefix = typePrefixes.ofDate(date, block, scanner.lastUpdatedStart, scanner.lastUpdatedEnd);
          else {
            ms = new Date(
              scanner.lastUpdatedStart >= 0
                ? block.toString('utf8', scanner.lastUpdatedStart, scanner.lastUpdatedEnd)
                : input.transactionTime,
            ).getTime();
            if (!Number.isNaN(ms)) prefix = typePrefixes.of(ms);
          }
          if (prefix !== undefined) {
            if (lake.add(prefix, block, start, end)) await lake.drain();
            result.resources += 1;
            if (deps.bus)
              await events.add({
                resourceType: input.type,
                id: block.toString('utf8', scanner.idStart, scanner.idEnd),
                ...(scanner.versionIdStart >= 0
                  ? { versionId: block.toString('utf8', scanner.versionIdStart, scanner.versionIdEnd) }
                  : {}),
                lastUpdated: new Date(ms).toISOString(),
                deleted: false,
                runId: input.runId,
                jobId: input.jobId,
              });
            start = next + 1;
            continue;
          }
        }
        await processLine(lineNumber, block.toString('utf8', start, end));
      }
      start = next + 1;
    }
  };

  const stream = await deps.exportStore(input.bucket).getStream(input.key);
  try {
    // Blocks of whole lines, cut after a line feed: a line spread over several chunks is joined first.
    let partial: Buffer[] = [];
    for await (const data of stream as AsyncIterable<Buffer | string>) {
      const chunk = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      const last = chunk.lastIndexOf(LF);
      if (last === -1) {
        partial.push(chunk);
        continue;
      }
      let from = 0;
      if (partial.length > 0) {
        const first = chunk.indexOf(LF);
        partial.push(chunk.subarray(0, first + 1));
        await processBlock(Buffer.concat(partial));
        partial = [];
        from = first + 1;
      }
      if (last + 1 > from) await processBlock(chunk.subarray(from, last + 1));
      if (last + 1 < chunk.length) partial.push(chunk.subarray(last + 1));
    }
    if (partial.length > 0) await processBlock(Buffer.concat(partial));
  } finally {
    stream.destroy();
  }
  await lake.close();
  await errors.close();
  await events.close();
  result.files = lake.files + errors.files;
  if (input.kind === 'deleted') result.deletedByType = deletedByType;
  return result;
}

const DAY_MS = 86_400_000;
/** Whether `block` has a CR that is not followed by a LF (a line break of its own for readline). */
function hasLoneCr(block: Buffer): boolean {
  for (let at = block.indexOf(CR); at !== -1; at = block.indexOf(CR, at + 1)) if (block[at + 1] !== LF) return true;
  return false;
}

const RESOURCE_TYPE = /^[A-Z][A-Za-z]+$/;
/** readline's line breaks. */
const LINE_BREAK = /\r\n|\n|\r/;
const LF = 0x0a;
const CR = 0x0d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/** Why a parsed line is not a resource of the file's type, or undefined when it is. */
function checkResource(value: unknown, expectedType: string): string | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return 'line is not a JSON object';
  const resource = value as { resourceType?: unknown; id?: unknown };
  if (typeof resource.resourceType !== 'string' || !RESOURCE_TYPE.test(resource.resourceType))
    return 'missing or invalid resourceType';
  if (typeof resource.id !== 'string' || resource.id === '') return 'missing id';
  if (resource.resourceType !== expectedType)
    return `resourceType ${resource.resourceType} does not match file type ${sanitiseSegment(expectedType)}`;
  return undefined;
}

/**
 * Deterministic file stem: the export's transactionTime (sortable, see {@link transactionTimePrefix}), job id, file
 * name and a hash of the full key.
 */
function fileStem(input: ProcessFileInput): string {
  const base =
    input.key
      .split('/')
      .pop()
      ?.replace(/\.ndjson(\.gz)?$/, '') ?? 'file';
  const hash = createHash('sha256').update(`${input.bucket}/${input.key}`).digest('hex').slice(0, 8);
  const kind = input.kind === 'deleted' ? 'del_' : input.kind === 'error' ? 'err_' : '';
  return `${transactionTimePrefix(input.transactionTime)}_${clean(input.jobId)}_${clean(base)}_${kind}${hash}`;
}

/**
 * The export's transactionTime as the sortable file-name prefix of every lake file process-file writes
 * (`YYYYMMDDTHHMMSS.mmmZ`, UTC): a landed line is attributable to its export, and versions order by export even
 * without `meta` (the query views read it from the file name).
 *
 * @example
 * transactionTimePrefix('2026-12-01T12:59:59.123Z') // '20261201T125959.123Z'
 */
export function transactionTimePrefix(transactionTime: string): string {
  const at = new Date(transactionTime);
  if (Number.isNaN(at.getTime()))
    throw new ExportWorkflowError('Export.InvalidTransactionTime', 'transactionTime is not an instant');
  return at.toISOString().replace(/[-:]/g, '');
}

function clean(value: string): string {
  return value.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 80) || '_';
}

class EventBatcher {
  private batch: BusEvent<FhirResourceChangedDetail>[] = [];
  public constructor(
    private readonly bus: EventBus | undefined,
    private readonly size: number,
  ) {}

  public async add(detail: FhirResourceChangedDetail): Promise<void> {
    if (!this.bus) return;
    this.batch.push({ ...FHIR_RESOURCE_CHANGED, detail, time: new Date(detail.lastUpdated) });
    if (this.batch.length >= this.size) await this.flush();
  }

  public async close(): Promise<void> {
    await this.flush();
  }

  private async flush(): Promise<void> {
    if (!this.bus || this.batch.length === 0) return;
    const batch = this.batch;
    this.batch = [];
    const result = await this.bus.publish(batch);
    if (result.failed.length > 0) throw new EventPublishError(result.failed.length);
  }
}

/** Lake prefix per (type, UTC day), memoised: building Hive paths per line is measurable on large files. */
class PartitionPrefixes {
  private readonly cache = new Map<string, string>();

  /** The prefixes of one type by UTC day number (`floor(ms / day)`), for the fast path. */
  public ofType(resourceType: string): {
    of: (ms: number) => string;
    ofDate: (date: number, text: Uint8Array, start: number, end: number) => string;
  } {
    const byDay = new Map<number, string>();
    const byDate = new Map<number, string>();
    const fhir = lakeLayout.fhir(resourceType);
    const of = (ms: number) => {
      const day = Math.floor(ms / DAY_MS);
      let prefix = byDay.get(day);
      if (prefix === undefined) {
        prefix = `${fhir}${hivePath(datePartitions(new Date(ms)))}`;
        if (byDay.size > 10_000) byDay.clear();
        byDay.set(day, prefix);
      }
      return prefix;
    };
    return {
      of,
      /** By a {@link canonicalUtcDate} of the instant at `text[start, end)`. */
      ofDate: (date, text, start, end) => {
        let prefix = byDate.get(date);
        if (prefix === undefined) {
          prefix = of(
            new Date(Buffer.from(text.buffer, text.byteOffset + start, end - start).toString('latin1')).getTime(),
          );
          if (byDate.size > 10_000) byDate.clear();
          byDate.set(date, prefix);
        }
        return prefix;
      },
    };
  }

  /** The prefix of a type and instant. */
  public of(resourceType: string, at: Date): string {
    const key = `${resourceType}|${at.getUTCFullYear()}|${at.getUTCMonth()}|${at.getUTCDate()}`;
    let prefix = this.cache.get(key);
    if (prefix === undefined) {
      prefix = `${lakeLayout.fhir(resourceType)}${hivePath(datePartitions(at))}`;
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(key, prefix);
    }
    return prefix;
  }
}
