import { generateDirectory } from './directory.js';
import { FhirSeedRequestError, type SeedIssue } from './errors.js';
import { resolvePopulationOptions } from './options.js';
import { generatePopulation } from './population.js';
import { backoffDelay, forEachBounded, resolveRetry, sleep, type ResolvedRetry } from './retry.js';
import type { PopulationOptions, RetryOptions, SeedCounts, SeedProgress, TransactionBundle } from './types.js';

export interface SeedFhirOptions extends PopulationOptions {
  /** FHIR base URL; bundles are POSTed to it as-is (e.g. `http://127.0.0.1:8080/datastore/<id>/r4/`). */
  fhirBaseUrl: string;
  /** Bundles in flight at once (default 4). */
  concurrency?: number;
  onProgress?: SeedProgress;
  /** Defaults to the global `fetch`; inject a signing fetch for real HealthLake. */
  fetchImpl?: typeof fetch;
  /** Extra request headers (e.g. authorization). */
  headers?: Record<string, string>;
  retry?: RetryOptions;
  /** Load the Practitioner/Organization directory first (default true). */
  includeDirectory?: boolean;
}

const RETRYABLE = (status: number): boolean => status === 429 || status === 408 || status >= 500;
const MAX_DIAGNOSTICS = 300;

/**
 * Seeds a FHIR server with a deterministic population: the directory bundle first, then one
 * transaction bundle per patient with bounded concurrency. 5xx/429/network errors are retried
 * with exponential backoff (honouring `Retry-After`); a 4xx fails fast with the server's
 * OperationOutcome diagnostics. Bundles are generated lazily, so memory does not grow with N.
 *
 * @example
 * const counts = await seedFhir({ fhirBaseUrl: 'http://127.0.0.1:8080/datastore/ds/r4/', patients: 100, seed: 42 });
 * console.log(counts.byType.Observation);
 */
export async function seedFhir(options: SeedFhirOptions): Promise<SeedCounts> {
  const resolved = resolvePopulationOptions(options);
  const retry = resolveRetry(options.retry);
  const fetchImpl = options.fetchImpl ?? globalThis.fetch;
  const counts: SeedCounts = { patients: 0, bundles: 0, resources: 0, byType: {}, retries: 0 };
  const post = async (bundle: TransactionBundle, bundleId: string): Promise<void> => {
    counts.retries += await postBundle(
      { url: options.fhirBaseUrl, headers: options.headers ?? {}, fetchImpl, retry },
      bundle,
      bundleId,
    );
    counts.bundles++;
    counts.resources += bundle.entry.length;
    for (const { resource } of bundle.entry)
      counts.byType[resource.resourceType] = (counts.byType[resource.resourceType] ?? 0) + 1;
  };

  if (options.includeDirectory ?? true) await post(generateDirectory(), 'directory');
  await forEachBounded(generatePopulation(resolved), options.concurrency ?? 4, async (bundle, i) => {
    await post(bundle, `patient ${bundlePatientId(bundle) ?? `#${resolved.firstPatient + i}`}`);
    counts.patients++;
    options.onProgress?.(counts.patients, resolved.patients, counts.resources);
  });
  return counts;
}

interface PostTarget {
  url: string;
  headers: Record<string, string>;
  fetchImpl: typeof fetch;
  retry: ResolvedRetry;
}

/** Posts one transaction bundle; returns how many retries it took. */
async function postBundle(target: PostTarget, bundle: TransactionBundle, bundleId: string): Promise<number> {
  const body = JSON.stringify(bundle);
  for (let attempt = 1; ; attempt++) {
    let status = 0;
    let issues: SeedIssue[];
    let retryAfterMs: number | undefined;
    let cause: unknown;
    try {
      const response = await target.fetchImpl(target.url, {
        method: 'POST',
        headers: { 'content-type': 'application/fhir+json', accept: 'application/fhir+json', ...target.headers },
        body,
      });
      status = response.status;
      const text = await response.text();
      if (response.ok) {
        const failed = failedEntries(text);
        if (failed.length === 0) return attempt - 1;
        throw new FhirSeedRequestError({ status, bundleId, attempts: attempt, issues: failed });
      }
      issues = operationOutcomeIssues(text);
      retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
      if (!RETRYABLE(status)) throw new FhirSeedRequestError({ status, bundleId, attempts: attempt, issues });
    } catch (error) {
      if (error instanceof FhirSeedRequestError) throw error;
      cause = error;
      issues = [
        {
          code: 'exception',
          diagnostics: error instanceof Error ? error.message.slice(0, MAX_DIAGNOSTICS) : 'request failed',
        },
      ];
    }
    if (attempt >= target.retry.attempts)
      throw new FhirSeedRequestError({ status, bundleId, attempts: attempt, issues, cause });
    await sleep(backoffDelay(target.retry, attempt, retryAfterMs));
  }
}

const bundlePatientId = (bundle: TransactionBundle): string | undefined => {
  const patient = bundle.entry.find((entry) => entry.resource.resourceType === 'Patient')?.resource as
    { identifier?: Array<{ value?: string }> } | undefined;
  return patient?.identifier?.[0]?.value;
};

const parseRetryAfter = (header: string | null): number | undefined => {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return seconds * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
};

/** Reduces an OperationOutcome to codes, paths and (truncated) diagnostics. */
function operationOutcomeIssues(text: string): SeedIssue[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return [];
  }
  const outcome = parsed as { resourceType?: string; issue?: unknown[] };
  if (outcome?.resourceType !== 'OperationOutcome' || !Array.isArray(outcome.issue)) return [];
  return outcome.issue.map((raw) => {
    const issue = raw as {
      severity?: string;
      code?: string;
      expression?: string[];
      diagnostics?: string;
      details?: { text?: string };
    };
    const diagnostics = issue.diagnostics ?? issue.details?.text;
    return {
      ...(issue.severity ? { severity: issue.severity } : {}),
      ...(issue.code ? { code: issue.code } : {}),
      ...(Array.isArray(issue.expression) ? { expression: issue.expression.map(String) } : {}),
      ...(diagnostics ? { diagnostics: String(diagnostics).slice(0, MAX_DIAGNOSTICS) } : {}),
    };
  });
}

/** Entries of a transaction-response whose status is not 2xx (a non-conformant partial success). */
function failedEntries(text: string): SeedIssue[] {
  let parsed: { entry?: Array<{ response?: { status?: string; outcome?: unknown } }> };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    return [];
  }
  return (parsed.entry ?? [])
    .map((entry, i) => ({ status: String(entry.response?.status ?? '200'), i }))
    .filter(({ status }) => !/^2\d\d/.test(status))
    .map(({ status, i }) => ({
      code: 'processing',
      expression: [`Bundle.entry[${i}]`],
      diagnostics: `entry status ${status}`,
    }));
}
