import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { FetchLike } from './bulk-data-protocol.js';

/** Options of {@link createSigV4Fetch}. */
export interface SigV4FetchOptions {
  /** Region of the endpoint (from config; never hard-coded). */
  region: string;
  /** Signing service name; HealthLake is `healthlake`. */
  service?: string;
  /** Static credentials or a provider (e.g. `defaultProvider()`). */
  credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Underlying fetch (default global `fetch`). */
  fetch?: FetchLike;
}

/**
 * A fetch that signs every request with SigV4 (`AWS4-HMAC-SHA256`), as HealthLake's FHIR REST API requires.
 *
 * @example
 * const signedFetch = createSigV4Fetch({ region: 'eu-west-2', credentials: defaultProvider() });
 * await signedFetch('https://healthlake.eu-west-2.amazonaws.com/datastore/abc/r4/export/j1');
 */
export function createSigV4Fetch(options: SigV4FetchOptions): FetchLike {
  const signer = new SignatureV4({
    service: options.service ?? 'healthlake',
    region: options.region,
    credentials: options.credentials,
    sha256: Sha256,
  });
  const baseFetch = options.fetch ?? ((url, init) => fetch(url, init));
  return async (url, init = {}) => {
    const target = new URL(url);
    const query: Record<string, string | string[]> = {};
    for (const [name, value] of target.searchParams) {
      const existing = query[name];
      query[name] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
    }
    const headers: Record<string, string> = { host: target.host };
    new Headers(init.headers).forEach((value, name) => {
      headers[name] = value;
    });
    const body = typeof init.body === 'string' ? init.body : undefined;
    if (init.body !== undefined && init.body !== null && body === undefined) {
      throw new TypeError('createSigV4Fetch signs string bodies only');
    }
    const request = new HttpRequest({
      method: (init.method ?? 'GET').toUpperCase(),
      protocol: target.protocol,
      hostname: target.hostname,
      ...(target.port ? { port: Number(target.port) } : {}),
      path: target.pathname,
      query,
      headers,
      ...(body !== undefined ? { body } : {}),
    });
    const signed = await signer.sign(request);
    const outHeaders = { ...signed.headers };
    delete outHeaders.host; // fetch sets Host itself (and refuses to be told)
    return baseFetch(url, { ...init, headers: outHeaders });
  };
}
