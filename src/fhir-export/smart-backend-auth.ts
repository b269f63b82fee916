import { createPrivateKey, randomUUID, sign, type KeyObject } from 'node:crypto';
import { isTransientStatus, operationOutcomeText, type FetchLike } from './bulk-data-protocol.js';
import { ExportWorkflowError, TransientExportError } from './errors.js';
import { jwkThumbprint } from './jwk-thumbprint.js';
import { requestFailedMessage } from './request-failure.js';
import { parseRetryAfter } from './retry-policy.js';

/** Options of {@link SmartBackendAuth}. */
export interface SmartBackendAuthOptions {
  /** OAuth token endpoint (or discovered from `<fhirBaseUrl>/.well-known/smart-configuration`). */
  tokenUrl?: string;
  fhirBaseUrl?: string;
  clientId: string;
  /** PEM private key (RSA for RS384, EC P-384 for ES384). */
  privateKeyPem: string;
  algorithm: 'RS384' | 'ES384';
  /**
   * `kid` of the client assertion: the id of this key in the JWKS registered with the server. Default: the key's
   * RFC 7638 JWK thumbprint (SHA-256, base64url) — SMART Backend Services requires a `kid`.
   */
  keyId?: string;
  /** Default `system/*.read`. */
  scope?: string;
  fetch?: FetchLike;
  now?: () => Date;
}

/**
 * Raised when the token endpoint refuses the client; the message carries the server's `error`, `error_description`
 * (or OperationOutcome text).
 *
 * @example
 * throw new SmartAuthError('token endpoint POST https://h/token answered HTTP 400: invalid_client: unknown kid');
 */
export class SmartAuthError extends ExportWorkflowError {
  public constructor(message: string) {
    super('Export.AuthFailed', message);
  }
}

/**
 * SMART Backend Services (client-credentials grant with a signed JWT `client_assertion`, RS384/ES384).
 * The access token is cached until shortly before it expires.
 *
 * @example
 * const auth = new SmartBackendAuth({ tokenUrl, clientId: 'tributary', privateKeyPem, algorithm: 'ES384' });
 * const authedFetch = auth.wrap(fetch);
 */
export class SmartBackendAuth {
  private readonly key: KeyObject;
  private cached: { token: string; expiresAt: number } | undefined;
  private tokenUrl: string | undefined;
  private readonly fetchFn: FetchLike;
  private readonly now: () => Date;
  /** `kid` sent with every assertion. */
  public readonly keyId: string;

  public constructor(private readonly options: SmartBackendAuthOptions) {
    this.key = createPrivateKey(options.privateKeyPem);
    this.keyId = options.keyId ?? jwkThumbprint(this.key);
    this.tokenUrl = options.tokenUrl;
    this.fetchFn = options.fetch ?? ((url, init) => fetch(url, init));
    this.now = options.now ?? (() => new Date());
    if (!this.tokenUrl && !options.fhirBaseUrl) throw new TypeError('SmartBackendAuth needs tokenUrl or fhirBaseUrl');
  }

  /** A bearer token, fetched or cached. */
  public async accessToken(): Promise<string> {
    const nowMs = this.now().getTime();
    if (this.cached && this.cached.expiresAt - 30_000 > nowMs) return this.cached.token;
    const tokenUrl = await this.resolveTokenUrl();
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      scope: this.options.scope ?? 'system/*.read',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: this.clientAssertion(tokenUrl),
    });
    let response: Response;
    try {
      response = await this.fetchFn(tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: form.toString(),
      });
    } catch (error) {
      throw new TransientExportError(requestFailedMessage('SMART token request', 'POST', tokenUrl, error), {
        cause: error,
      });
    }
    const body = (await response.json().catch(() => ({}))) as TokenResponse;
    if (!response.ok || !body.access_token) {
      const reason = tokenErrorText(body);
      const message = `SMART token endpoint POST ${tokenUrl} answered HTTP ${response.status}${reason ? `: ${reason}` : ''}`;
      if (isTransientStatus(response.status)) {
        const retryAfterSeconds = parseRetryAfter(response.headers.get('retry-after'), this.now());
        throw new TransientExportError(message, retryAfterSeconds === undefined ? {} : { retryAfterSeconds });
      }
      throw new SmartAuthError(message);
    }
    this.cached = { token: body.access_token, expiresAt: nowMs + (body.expires_in ?? 300) * 1000 };
    return body.access_token;
  }

  /** Wraps a fetch so every request carries `Authorization: Bearer …`. */
  public wrap(inner: FetchLike): FetchLike {
    return async (url, init = {}) => {
      const headers = new Headers(init.headers);
      headers.set('authorization', `Bearer ${await this.accessToken()}`);
      return inner(url, { ...init, headers });
    };
  }

  /** The signed JWT (exposed for tests). */
  public clientAssertion(audience: string): string {
    const nowSeconds = Math.floor(this.now().getTime() / 1000);
    const header = {
      alg: this.options.algorithm,
      typ: 'JWT',
      kid: this.keyId,
    };
    const claims = {
      iss: this.options.clientId,
      sub: this.options.clientId,
      aud: audience,
      exp: nowSeconds + 300,
      jti: randomUUID(),
    };
    const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
    const signature =
      this.options.algorithm === 'ES384'
        ? sign('sha384', Buffer.from(input), { key: this.key, dsaEncoding: 'ieee-p1363' })
        : sign('sha384', Buffer.from(input), this.key);
    return `${input}.${signature.toString('base64url')}`;
  }

  private async resolveTokenUrl(): Promise<string> {
    if (this.tokenUrl) return this.tokenUrl;
    const wellKnown = `${this.options.fhirBaseUrl!.replace(/\/+$/, '')}/.well-known/smart-configuration`;
    let response: Response;
    try {
      response = await this.fetchFn(wellKnown, { headers: { accept: 'application/json' } });
    } catch (error) {
      throw new TransientExportError(requestFailedMessage('SMART configuration', 'GET', wellKnown, error), {
        cause: error,
      });
    }
    const body = (await response.json().catch(() => ({}))) as { token_endpoint?: string };
    if (!response.ok || !body.token_endpoint)
      throw new SmartAuthError(`no token_endpoint at ${wellKnown} (HTTP ${response.status})`);
    this.tokenUrl = body.token_endpoint;
    return this.tokenUrl;
  }
}

/** An OAuth error answer (RFC 6749 §5.2), or an OperationOutcome some servers send instead. */
interface TokenResponse {
  access_token?: string;
  expires_in?: number;
  error?: unknown;
  error_description?: unknown;
  resourceType?: string;
  issue?: Array<{ diagnostics?: string; details?: { text?: string } }>;
}

/** `error: error_description`, or the OperationOutcome's text: the server's reason (never a token), capped. */
function tokenErrorText(body: TokenResponse): string | undefined {
  const parts = [body.error, body.error_description].filter((part) => typeof part === 'string' && part) as string[];
  const text = parts.length > 0 ? parts.join(': ') : operationOutcomeText(body);
  return text ? text.slice(0, 300) : undefined;
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}
