import { UnsupportedOutputUrlError } from './errors.js';
import type { ObjectLocation } from './types.js';

const VIRTUAL_HOSTED = /^(.+?)\.s3(?:[.-](?:dualstack\.)?[a-z0-9-]+)?(?:\.amazonaws\.com(?:\.cn)?)$/;
const PATH_STYLE = /^s3(?:[.-](?:dualstack\.)?[a-z0-9-]+)?\.amazonaws\.com(?:\.cn)?$/;

/**
 * Maps an export output URL to its bucket and key: `s3://bucket/key`, virtual-hosted S3 URLs
 * (`https://bucket.s3.eu-west-2.amazonaws.com/key`) and path-style S3 URLs
 * (`https://s3.eu-west-2.amazonaws.com/bucket/key`). Keys are percent-decoded; the query string is ignored.
 * Never guesses from words inside the key.
 *
 * @example
 * locateExportUrl('s3://exports/pfx/ds-FHIR_EXPORT-j1/Patient/Patient-1.ndjson')
 * // { bucket: 'exports', key: 'pfx/ds-FHIR_EXPORT-j1/Patient/Patient-1.ndjson' }
 */
export function locateExportUrl(url: string): ObjectLocation {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UnsupportedOutputUrlError(url);
  }
  const path = decodePath(parsed.pathname, url);
  if (parsed.protocol === 's3:') {
    const bucket = parsed.hostname;
    const key = path.replace(/^\//, '');
    if (!bucket || !key) throw new UnsupportedOutputUrlError(url);
    return { bucket, key };
  }
  if (parsed.protocol === 'https:' || parsed.protocol === 'http:') {
    const host = parsed.hostname.toLowerCase();
    const virtual = VIRTUAL_HOSTED.exec(host);
    if (virtual && !PATH_STYLE.test(host)) {
      const key = path.replace(/^\//, '');
      if (!key) throw new UnsupportedOutputUrlError(url);
      return { bucket: virtual[1]!, key };
    }
    if (PATH_STYLE.test(host)) {
      const rest = path.replace(/^\//, '');
      const slash = rest.indexOf('/');
      if (slash <= 0 || slash === rest.length - 1) throw new UnsupportedOutputUrlError(url);
      return { bucket: rest.slice(0, slash), key: rest.slice(slash + 1) };
    }
  }
  throw new UnsupportedOutputUrlError(url);
}

/**
 * Builds `s3://bucket/key`.
 *
 * @example
 * toS3Uri({ bucket: 'b', key: 'a/b.ndjson' }) // 's3://b/a/b.ndjson'
 */
export function toS3Uri(location: ObjectLocation): string {
  return `s3://${location.bucket}/${location.key}`;
}

/**
 * Splits `s3://bucket/prefix/` into bucket and prefix (no leading slash; trailing slash kept if given).
 *
 * @example
 * parseS3Prefix('s3://b/exports/') // { bucket: 'b', prefix: 'exports/' }
 */
export function parseS3Prefix(uri: string): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!match) throw new UnsupportedOutputUrlError(uri);
  return { bucket: match[1]!, prefix: match[2] ?? '' };
}

function decodePath(pathname: string, url: string): string {
  try {
    return pathname
      .split('/')
      .map((segment) => decodeURIComponent(segment))
      .join('/');
  } catch {
    throw new UnsupportedOutputUrlError(url);
  }
}
