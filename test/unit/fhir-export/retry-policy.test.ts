import { describe, expect, it } from 'vitest';
import { parseRetryAfter } from '../../../src/fhir-export/bulk-data-protocol.js';
import { ExportStartError, TransientExportError } from '../../../src/fhir-export/errors.js';
import { fetchFailureReason } from '../../../src/fhir-export/request-failure.js';
import { DEFAULT_RETRY_POLICY, retryDelayMs, withRetry } from '../../../src/fhir-export/retry-policy.js';

const NOW = new Date('2015-10-21T07:28:00Z');

/** The shape of undici's fetch failure: `TypeError('fetch failed')` with the system error as `cause`. */
const fetchFailed = (code: string, message = code) =>
  Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error(message), { code }) });

describe('Retry-After', () => {
  it('reads delta-seconds, an HTTP-date, and an absolute epoch in seconds or milliseconds', () => {
    expect(parseRetryAfter('120', NOW)).toBe(120);
    expect(parseRetryAfter(' 0 ', NOW)).toBe(0);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:30 GMT', NOW)).toBe(30);
    expect(parseRetryAfter(String(Date.parse('2015-10-21T07:28:45Z') / 1000), NOW)).toBe(45);
    expect(parseRetryAfter(String(Date.parse('2015-10-21T07:29:00Z')), NOW)).toBe(60);
    expect(parseRetryAfter('1445412470', NOW)).toBe(0); // an epoch in the past: retry now
    expect(parseRetryAfter('soon', NOW)).toBeUndefined();
    expect(parseRetryAfter(null, NOW)).toBeUndefined();
  });
});

describe('retry policy', () => {
  it('backs off exponentially with jitter in the upper half, at least Retry-After, at most the cap', () => {
    const policy = { baseDelayMs: 1_000, maxDelayMs: 15_000 };
    expect([1, 2, 3].map((n) => retryDelayMs(n, undefined, policy, () => 0))).toEqual([500, 1_000, 2_000]);
    expect([1, 2, 3].map((n) => retryDelayMs(n, undefined, policy, () => 0.999999))).toEqual([1_000, 2_000, 4_000]);
    expect(retryDelayMs(1, 7, policy, () => 0)).toBe(7_000);
    expect(retryDelayMs(1, 3600, policy, () => 0)).toBe(15_000);
    expect(retryDelayMs(10, undefined, policy, () => 0)).toBe(15_000);
  });

  it('retries transient errors only, and says how often it tried', async () => {
    const sleeps: number[] = [];
    const sleep = async (ms: number) => void sleeps.push(ms);
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls += 1;
          throw new TransientExportError('HTTP 503');
        },
        { sleep, random: () => 0, policy: { maxAttempts: 3 } },
      ),
    ).rejects.toThrow('HTTP 503 (gave up after 3 attempts)');
    expect(calls).toBe(3);
    expect(sleeps).toEqual([500, 1_000]);

    calls = 0;
    await expect(
      withRetry(
        async () => {
          calls += 1;
          throw new ExportStartError('HTTP 403');
        },
        { sleep },
      ),
    ).rejects.toThrow(/^HTTP 403$/);
    expect(calls).toBe(1);
    expect(DEFAULT_RETRY_POLICY).toEqual({
      maxAttempts: 5,
      baseDelayMs: 1_000,
      maxDelayMs: 15_000,
      maxElapsedMs: 45_000,
    });
  });
});

describe('network failure reasons', () => {
  it('names the system error behind "fetch failed": connection, DNS, TLS', () => {
    expect(fetchFailureReason(fetchFailed('ECONNREFUSED'))).toBe('ECONNREFUSED (connection refused)');
    expect(fetchFailureReason(fetchFailed('ENOTFOUND', 'getaddrinfo ENOTFOUND fhir.example'))).toBe(
      'ENOTFOUND (DNS: host not found)',
    );
    expect(fetchFailureReason(fetchFailed('CERT_HAS_EXPIRED'))).toBe(
      'CERT_HAS_EXPIRED (TLS: the server certificate has expired)',
    );
    expect(fetchFailureReason(fetchFailed('ERR_SOMETHING_NEW'))).toBe('ERR_SOMETHING_NEW');
    expect(fetchFailureReason(new TypeError('fetch failed', { cause: new Error('other side closed') }))).toBe(
      'other side closed',
    );
  });
});
