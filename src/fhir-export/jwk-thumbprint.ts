import { createHash, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';

/** The members RFC 7638 §3.2 hashes, per key type, in lexicographic order. */
const REQUIRED_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  RSA: ['e', 'kty', 'n'],
  EC: ['crv', 'kty', 'x', 'y'],
  OKP: ['crv', 'kty', 'x'],
};

/**
 * The RFC 7638 JWK thumbprint (SHA-256, base64url) of a key: public or private (its public half is used), as a
 * `KeyObject`, a PEM or a JWK. SMART Backend Services uses it as the default `kid` of the client assertion.
 *
 * @example
 * jwkThumbprint({ kty: 'RSA', n: '0vx7…', e: 'AQAB' }) // RFC 7638 §3.1: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs'
 */
export function jwkThumbprint(key: KeyObject | string | JsonWebKey): string {
  const publicKey =
    typeof key === 'string'
      ? createPublicKey(key)
      : isKeyObject(key)
        ? key.type === 'public'
          ? key
          : createPublicKey(key)
        : createPublicKey({ key, format: 'jwk' });
  const jwk = publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
  const members = REQUIRED_MEMBERS[String(jwk.kty)];
  if (!members) throw new TypeError(`no RFC 7638 thumbprint for key type ${String(jwk.kty)}`);
  // Canonical form: only the required members, sorted, no whitespace; JSON.stringify keeps insertion order.
  const canonical = JSON.stringify(Object.fromEntries(members.map((name) => [name, jwk[name]])));
  return createHash('sha256').update(canonical, 'utf8').digest('base64url');
}

function isKeyObject(key: KeyObject | JsonWebKey): key is KeyObject {
  return typeof (key as KeyObject).export === 'function' && typeof (key as KeyObject).type === 'string';
}
